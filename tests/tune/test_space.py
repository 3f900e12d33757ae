"""The search space file: every mistake is an error that names the key; grid needs choices."""

import subprocess
import sys

import optuna
import pytest

from fullcycle.core.errors import FullcycleError
from fullcycle.tune import space
from fullcycle.tune.search import Options, settings
from tests.conftest import REPO


def test_the_default_space_parses_for_every_sampler():
    config = space.load_config(str(REPO / "conf/tune/default.yaml"))
    params = space.parse(config["space"])
    assert {p.key for p in params} >= {"train.lr", "train.batch_size"}
    lr = next(p for p in params if p.key == "train.lr")
    assert (
        isinstance(lr.distribution, optuna.distributions.FloatDistribution) and lr.distribution.log
    )
    assert space.grid_size(params) == len(space.grid(params)["train.lr"]) * 2 * 2 * 2


def test_int_entries_enumerate_their_grid():
    (param,) = space.parse({"trainer.max_epochs": {"type": "int", "low": 2, "high": 4}})
    assert param.choices == (2, 3, 4)


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        ({"type": "floot", "low": 1, "high": 2}, "`type` must be one of float, int, categorical"),
        ({"type": "float", "low": 3e-4, "high": 1e-5}, "`low` .* must be below `high`"),
        ({"type": "float", "low": 0, "high": 1, "log": True}, "`log: true` needs `low` > 0"),
        ({"type": "float", "low": "a", "high": 1}, "`low` must be a number"),
        ({"type": "int", "low": 1.5, "high": 4}, "must be a whole number"),
        ({"type": "categorical"}, "needs `choices"),
        ({"type": "categorical", "choices": []}, "non-empty list"),
        ({"type": "float", "low": 0, "high": 1, "choices": [2]}, r"choice 2 is not a number in"),
        ({"type": "float", "low": 0, "high": 1, "hgih": 2}, "unknown field"),
        ("1e-4..3e-4", "must be a mapping"),
    ],
)
def test_a_bad_entry_is_an_error_naming_the_key(entry, why):
    with pytest.raises(FullcycleError, match=rf"entry 'train\.lr': .*{why}"):
        space.parse({"train.lr": entry})


def test_grid_needs_choices_on_every_entry():
    params = space.parse({"train.lr": {"type": "float", "low": 1e-5, "high": 1e-3}})
    with pytest.raises(FullcycleError, match=r"'train.lr': the grid sampler needs `choices"):
        space.grid(params)


@pytest.mark.parametrize(
    ("opts", "message"),
    [
        (Options(sampler="bayes"), "sampler = 'bayes': must be one of tpe, random, grid"),
        (Options(trials=0), "trials = 0: must be a whole number >= 1"),
        (Options(seeds=0), r"seeds = 0: must be a whole number >= 1"),
        (Options(study="my study"), r"study = 'my study': must be a string matching"),
        (Options(fixed=["train.lr=1e-4"]), r"-S train.lr: fixed by -S and searched"),
    ],
)
def test_bad_options_are_clear_errors(opts, message):
    opts.space = str(REPO / "conf/tune/default.yaml")
    with pytest.raises(FullcycleError, match=message):
        settings(opts)


def test_seeds_default_to_one_and_one_study_keeps_its_count():
    from fullcycle.tune import study as studies

    for name in ("default", "quick"):
        assert settings(Options(space=str(REPO / f"conf/tune/{name}.yaml")))["seeds"] == 1
    assert settings(Options(space=str(REPO / "conf/tune/quick.yaml"), seeds=3))["seeds"] == 3
    study = optuna.create_study(study_name="s")
    studies.check_seeds(study, 3)
    studies.check_seeds(study, 3)  # resuming with the same count is fine
    with pytest.raises(FullcycleError, match="runs 3 seed.*--seeds 1 would mix"):
        studies.check_seeds(study, 1)


@pytest.mark.parametrize("value", ["0", "three", "true"])
def test_a_bad_tpe_startup_is_a_clear_error(tmp_path, value):
    path = tmp_path / "s.yaml"
    path.write_text(
        f"tpe_startup_trials: {value}\n"
        "space:\n  train.lr: {type: float, low: 1.0e-5, high: 1.0e-3}\n"
    )
    message = f"s.yaml: tpe_startup_trials = .*{value[:3]}.*: must be a whole number >= 1"
    with pytest.raises(FullcycleError, match=f"(?i){message}"):
        settings(Options(space=str(path)))


def test_an_unknown_setting_is_named_with_what_the_file_may_hold(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("trails: 8\nspace:\n  train.lr: {type: float, low: 1.0e-5, high: 1.0e-3}\n")
    with pytest.raises(
        FullcycleError, match=r"s.yaml: trails is not a setting \(did you mean trials"
    ):
        settings(Options(space=str(path)))


def test_tpe_starts_modelling_after_its_startup_trials():
    from fullcycle.tune import study

    sampler = study.make_sampler("tpe", 0, None, startup=3)
    assert sampler._n_startup_trials == 3


def test_the_value_is_never_a_test_split_number(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        "metric: reports/eval/metrics.json:test.f1_macro\n"
        "space:\n  train.lr: {type: float, low: 1.0e-5, high: 1.0e-3}\n"
    )
    with pytest.raises(FullcycleError, match="reads the test split"):
        settings(Options(space=str(path)))


def test_the_cli_names_the_bad_key_and_exits_2(tmp_path):
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    (tmp_path / "bad.yaml").write_text(
        "space:\n  train.lr: {type: float, low: 1.0e-5, high: 1.0e-3}\n"
        "  train.batch_size: {type: categorical, choices: 16}\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "fullcycle.cli", "tune", "--space", "bad.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2, done.stderr
    assert "'train.batch_size'" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / ".fullcycle").exists()  # nothing written
