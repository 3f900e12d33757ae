"""The typed schema of conf/ (core/schema.py, schema_release.py): every option of every group
validates; a bad key or value is one error naming the key, its value and what is allowed; the
values themselves live in conf/ only."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import yaml
from omegaconf import OmegaConf
from pydantic import BaseModel

from fullcycle.core import params
from fullcycle.core.errors import FullcycleError
from fullcycle.core.schema import Group, Model, Trainer
from fullcycle.core.schema_check import Params
from fullcycle.core.schema_release import Pruner, Tune
from tests.conftest import REPO

CONF = REPO / "conf"
OPTIONS = sorted(
    f"{group.name}={option.stem}"
    for group in CONF.iterdir()
    if group.is_dir() and group.name != "tune"  # not composed: conf/tune/ holds search spaces
    for option in group.glob("*.yaml")
)


@pytest.fixture(scope="module")
def composed() -> dict:
    return params.compose(CONF)


def text_with(composed: dict, key: str, value, delete: bool = False) -> str:
    """params.yaml's text with `key` (dotted) set to `value`, or deleted."""
    cfg = OmegaConf.create(composed)
    if delete:
        *head, last = key.split(".")
        del OmegaConf.select(cfg, ".".join(head))[last]
    else:
        OmegaConf.update(cfg, key, value, force_add=True)
    return OmegaConf.to_yaml(cfg)


def error_of(text: str) -> str:
    with pytest.raises(FullcycleError) as error:
        params.load_text(text, "params.yaml")
    return str(error.value)


@pytest.mark.parametrize("option", OPTIONS)
def test_every_option_of_every_group_composes_and_validates(option):
    values = params.compose(CONF, [option])
    Params.model_validate(values)  # every section, every key
    params.check(values, option)


@pytest.mark.parametrize("name", ["default", "quick"])
def test_every_tune_space_validates(name):
    Tune.model_validate(yaml.safe_load((CONF / "tune" / f"{name}.yaml").read_text()))


def _groups(model: type[BaseModel], seen: set | None = None):
    seen = set() if seen is None else seen
    for field in model.model_fields.values():
        for tp in [field.annotation, *getattr(field.annotation, "__args__", ())]:
            if isinstance(tp, type) and issubclass(tp, Group) and tp not in seen:
                seen.add(tp)
                yield tp
                yield from _groups(tp, seen)


def test_no_default_lives_outside_conf():
    """A params key has a default only where conf/ may leave it out (model.tiny: the tiny
    model's own). Tune's defaults fill a partial search-space file (conf/tune/*.yaml set all)."""
    defaults = [
        f"{model.__name__}.{name}"
        for model in [Params, *_groups(Params)]
        for name, field in model.model_fields.items()
        if not field.is_required()
    ]
    assert defaults == [f"{Model.__name__}.tiny"]
    for model in _groups(Params):
        assert (REPO / model.conf.split("*")[0]).exists(), model.conf  # errors point at conf/


def test_the_trainer_group_takes_any_trainer_argument(composed):
    values = composed["trainer"] | {"limit_train_batches": 10}
    assert Trainer.model_validate(values).model_extra == {"limit_train_batches": 10}
    assert Pruner.model_validate({"type": "percentile", "percentile": 30}).model_extra


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [  # a bad value: its key, the value, what is allowed and where it is set
        ("train.lr", -1, "train.lr = -1: must be a number > 0 (conf/train/default.yaml)"),
        ("train.window", "middle", "train.window = 'middle': must be one of first, random (conf"),
        ("train.batch_size", "16", "train.batch_size = '16': must be a whole number >= 1"),
        ("train.batch_size", 16.0, "train.batch_size = 16.0: must be a whole number >= 1"),
        ("train.bucket_by_length", "yes", "train.bucket_by_length = 'yes': must be true or false"),
        ("train.head_lr", 0, "train.head_lr = 0: must be a number > 0, or null"),
        ("data.split.val", 1.5, "data.split.val = 1.5: must be a number in (0, 1) (conf/data/)"),
        ("data.on_conflict", "vote", "data.on_conflict = 'vote': must be one of error, majority"),
        ("model.peft", "qlora", "model.peft = 'qlora': must be one of none, lora (conf/model/)"),
        ("trainer.deterministic", "maybe", "trainer.deterministic = 'maybe': must be true or"),
        ("seed", -1, "seed = -1: must be a whole number >= 0 (conf/config.yaml)"),
        ("baseline.C", 0, "baseline.C = 0: must be a number > 0 (conf/config.yaml)"),
        ("label.export.out", "tasks.csv", "label.export.out = 'tasks.csv': must be a string match"),
        ("monitor.embedding_map_rows", 5000, "monitor.embedding_map_rows = 5000: must be a whole"),
    ],
)
def test_a_bad_value_is_one_line_naming_key_value_and_what_is_allowed(
    composed, key, value, message
):
    error = error_of(text_with(composed, key, value))
    assert error.startswith(f"params.yaml: {message}"), error
    assert "\n" not in error


def test_an_unknown_key_names_the_keys_of_its_group(composed):
    error = error_of(text_with(composed, "train.lrr", 1e-4))
    assert error == (
        "params.yaml: train.lrr is not a setting (did you mean train.lr? train has: batch_size, "
        "lr, weight_decay, warmup_ratio, label_smoothing, grad_clip, patience, keep, window, "
        "head_lr, layer_decay, bucket_by_length)"
    )
    assert "trian is not a setting (did you mean train? the top level has: data," in error_of(
        text_with(composed, "trian", {"lr": 1})
    )


def test_a_missing_key_says_what_it_must_be(composed):
    error = error_of(text_with(composed, "promote.rule", None, delete=True))
    assert error == (
        "params.yaml: promote.rule is missing: must be one of superior, non_inferior "
        "(conf/promote/default.yaml)"
    )


def test_a_check_across_keys_names_them(composed):
    error = error_of(text_with(composed, "data.split.test", 0.85))
    assert error.startswith("params.yaml: data.split leaves 0.00 of the rows for training")
    error = error_of(text_with(composed, "data.source", "file"))
    assert "data.source is file but data.path is null" in error


def test_several_problems_are_one_error_a_line_each(composed):
    cfg = OmegaConf.create(composed)
    cfg.train.lr, cfg.optimize.preference, cfg.seed = 0, ["int4"], "42"
    lines = error_of(OmegaConf.to_yaml(cfg)).splitlines()
    assert [line.split(" =")[0] for line in lines] == [
        "params.yaml: train.lr",
        "params.yaml: optimize.preference",
        "params.yaml: seed",
    ]


def test_a_retired_key_names_its_replacement(composed):
    error = error_of(text_with(composed, "explain.budget_s", 150))
    assert error.startswith("params.yaml: explain.budget_s is no longer read; the budget is")


def test_a_file_is_checked_for_the_sections_it_has_and_a_step_asks_for_the_rest(tmp_path):
    (tmp_path / "params.yaml").write_text("seed: 1\ntrain:\n  lr: 0.1\n")
    with pytest.raises(FullcycleError, match=r"train.batch_size is missing"):
        params.load(tmp_path / "params.yaml")
    (tmp_path / "params.yaml").write_text("seed: 1\n")
    cfg = params.load(tmp_path / "params.yaml")
    with pytest.raises(FullcycleError, match="params.yaml has no 'train' section"):
        params.section(cfg, "train")


def test_a_reader_of_one_section_checks_only_that_one(composed):
    text = text_with(composed, "serve.port", 0)
    cfg = params.load_text(text, "params.yaml at main", sections=("promote",))
    assert cfg.serve.port == 0  # not asked for: another version's file may differ there
    with pytest.raises(FullcycleError, match=r"^params.yaml at main: serve.port = 0: must be"):
        params.load_text(text, "params.yaml at main", sections=("serve",))


def test_load_returns_the_file_as_it_is(composed, tmp_path):
    """Checked, never rewritten: a stage reads exactly what params.yaml says (1, not 1.0)."""
    (tmp_path / "params.yaml").write_text(text_with(composed, "train.lr", 1))
    cfg = params.load(tmp_path / "params.yaml")
    assert cfg.train.lr == 1 and isinstance(cfg.train.lr, int)
    assert OmegaConf.to_container(params.load(REPO / "params.yaml")) == yaml.safe_load(
        (REPO / "params.yaml").read_text()
    )


def test_an_override_is_refused_before_any_work(monkeypatch):
    monkeypatch.chdir(REPO)  # conf/ is composed from the project root
    with pytest.raises(FullcycleError) as error, params.overrides(["model=tiny", "train.lr=-1"]):
        pytest.fail("the run must not start")
    assert str(error.value) == (
        "conf/ with model=tiny train.lr=-1: train.lr = -1: must be a number > 0 "
        "(conf/train/default.yaml)"
    )


def test_help_does_not_import_the_schema():
    code = (
        "import sys\nfrom fullcycle.cli import build_parser\nbuild_parser().format_help()\n"
        "print(sorted(m for m in ('pydantic', 'omegaconf') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_data_validate_outside_a_project_reads_files_as_conf_does():
    """No params.yaml: the template's conf/data/bbc.yaml, which is this repository's too."""
    from fullcycle.data.commands import READ_KEYS, template_defaults

    bbc = yaml.safe_load((CONF / "data" / "bbc.yaml").read_text())
    assert template_defaults() == {key: bbc[key] for key in READ_KEYS}
    assert set(READ_KEYS) <= set(bbc)


def test_the_error_format_is_documented_in_the_module():
    from fullcycle.core import schema_check

    assert re.search(r"params.yaml: train.lr = -1: must be a number > 0", schema_check.__doc__)
