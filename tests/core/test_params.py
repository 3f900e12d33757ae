"""params.yaml is what `dvc repro` reads; it must stay the composition of conf/ (what dvc exp composes)."""

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from fullcycle.cli import main
from fullcycle.core import params
from fullcycle.core.errors import FullcycleError

REPO = Path(__file__).resolve().parents[2]


def test_committed_params_equal_the_composition_of_conf():
    committed = OmegaConf.to_container(OmegaConf.load(REPO / "params.yaml"))
    assert committed == params.compose(REPO / "conf"), (
        "run `fullcycle params` and commit params.yaml"
    )


def test_compose_matches_dvc_own_composition(tmp_path):
    """DVC's compose_and_dump is what `dvc exp run` calls: ours must write the same thing."""
    from dvc.utils.hydra import compose_and_dump

    theirs = tmp_path / "theirs.yaml"
    compose_and_dump(theirs, str(REPO / "conf"), None, "config", str(tmp_path), ["model=tiny"])
    ours = tmp_path / "ours.yaml"
    params.write(ours, REPO / "conf", ["model=tiny"])
    assert ours.read_text() == theirs.read_text()


def test_overrides_and_group_switches():
    cfg = params.compose(REPO / "conf", ["model=tiny", "train.lr=3e-5", "trainer=gpu"])
    assert cfg["model"]["name_or_path"] == "tiny"
    assert cfg["train"]["lr"] == 3e-5
    assert cfg["trainer"]["precision"] == "bf16-mixed"


def test_bad_override_is_a_clear_error():
    with pytest.raises(FullcycleError, match="cannot compose"):
        params.compose(REPO / "conf", ["model=nonexistent"])


def test_params_check_command(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "conf").symlink_to(REPO / "conf")
    assert main(["params"]) == 0
    assert main(["params", "--check"]) == 0
    (tmp_path / "params.yaml").write_text("seed: 1\n")
    assert main(["params", "--check"]) == 1
    assert "differs from conf/" in capsys.readouterr().out


def test_broken_params_file(tmp_path):
    (tmp_path / "params.yaml").write_text("data: [unclosed\n")
    with pytest.raises(FullcycleError, match="not valid YAML"):
        params.load(tmp_path / "params.yaml")


def test_a_stage_command_takes_overrides_for_one_run_without_touching_params_yaml(project, capsys):
    """`fullcycle prepare data.max_per_class=20` (like `fullcycle train model=tiny ...`): conf/
    composed with the overrides for this run; params.yaml keeps its bytes and its values."""
    import json

    before = (project / "params.yaml").read_bytes()
    assert main(["prepare", "data.max_per_class=20"]) == 0
    assert "for this run only" in capsys.readouterr().err
    summary = json.loads((project / "reports/data/summary.json").read_text())
    assert summary["rows"]["total"] == 100  # 20 x 5 topics, not params.yaml's 40 x 5
    assert (project / "params.yaml").read_bytes() == before
    assert params.load().data.max_per_class == 40  # the override ended with the run

    assert main(["train", "no_such_section.key=1"]) == 2  # a bad override fails before any work
    err = capsys.readouterr().err
    assert "no_such_section" in err and "Traceback" not in err
    assert (project / "params.yaml").read_bytes() == before
    assert not (project / "models").exists()
