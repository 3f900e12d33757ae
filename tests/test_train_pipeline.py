"""train and evaluate through a real `dvc repro` and `dvc exp run` in a temporary git repository."""

import json

import pytest
import yaml

from .conftest import SMALL, git, run

pytestmark = pytest.mark.usefixtures("one_thread")

# the project fixture's overrides as `dvc exp run` flags (each run recomposes conf/)
SMALL_EXP = [flag for value in SMALL for flag in ("-S", value)]


def experiments(project) -> dict[str, dict]:
    """`dvc exp show --json` as {experiment name: its data}."""
    shown = json.loads(run(project, "dvc", "exp", "show", "--json").stdout)
    return {
        rev["name"]: rev["data"]
        for row in shown
        for exp in row.get("experiments") or []
        for rev in exp["revs"]
    }


def locked_outs(project) -> dict[str, str]:
    """{stage:path: md5} of every output dvc.lock records."""
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    return {
        f"{name}:{out['path']}": out["md5"]
        for name, stage in lock["stages"].items()
        for out in stage.get("outs", [])
    }


def test_dvc_repro_trains_evaluates_and_renders_plots(project):
    done = run(project, "dvc", "repro", "evaluate")
    assert "Running stage 'train'" in done.stdout and "Running stage 'evaluate'" in done.stdout
    metrics = json.loads((project / "reports/eval/metrics.json").read_text())
    assert set(metrics["test"]) == {"accuracy", "accuracy_ci", "f1_macro", "f1_macro_ci"}
    assert "| accuracy |" in (project / "reports/model_card.md").read_text()
    assert (project / "models/classifier/fullcycle.json").is_file()
    assert not (project / ".fullcycle/checkpoints").exists()  # only the timing for `fullcycle plan`

    plots = json.loads(run(project, "dvc", "plots", "show", "--json").stdout)["data"]
    assert "reports/eval/confusion.json" in plots
    assert "dvclive/plots/metrics/val/f1_macro.tsv" in plots

    again = run(project, "dvc", "repro", "evaluate")
    assert "Running stage" not in again.stdout  # outputs are stable: nothing to redo

    # same inputs, same bytes: a forced rerun writes the same model, curves, metrics and card
    first = locked_outs(project)
    meta = json.loads((project / "models/classifier/fullcycle.json").read_text())
    assert "git_commit" not in meta  # stamped at package/release time, not in the model
    assert meta["data"]["md5"] == first["prepare:data/processed"]  # DVC's own hash
    assert f"`{meta['data']['md5']}`, DVC's hash" in (project / "reports/model_card.md").read_text()
    run(project, "dvc", "repro", "--force", "--single-item", "train", "evaluate")
    assert locked_outs(project) == first

    # bytecode is not code: .pyc files under src/ dependencies leave every stage up to date
    for package in ("train", "data", "evaluate"):
        cache = project / "src/fullcycle" / package / "__pycache__"
        cache.mkdir(exist_ok=True)
        (cache / "stage.cpython-311.pyc").write_bytes(b"\x00compiled")
    (project / "src/fullcycle/train/stray.pyc").write_bytes(b"\x00compiled")
    status = json.loads(run(project, "dvc", "status", "--json").stdout)
    assert [s for s in ("prepare", "baseline", "train", "evaluate") if s in status] == []

    # an experiment: a Hydra override through -S reruns train and evaluate only
    git(project, "add", "-A")
    git(project, "commit", "-qm", "pipeline")
    exp = run(
        project, "dvc", "exp", "run", "-n", "slower", *SMALL_EXP, "-S", "train.lr=5e-5", "evaluate"
    )
    assert "Running stage 'train'" in exp.stdout and "Running stage 'prepare'" not in exp.stdout
    slower = experiments(project)["slower"]
    assert slower["params"]["params.yaml"]["data"]["train"]["lr"] == 5e-5
    assert "f1_macro" in slower["metrics"]["reports/eval/metrics.json"]["data"]["test"]
    # DVCLive's numbers are a plain output (learning rates, steps): not a column of exp show
    assert "dvclive/metrics.json" not in slower["metrics"]
    assert (project / "dvclive/metrics.json").is_file()


@pytest.mark.slow
def test_a_queued_grid_of_experiments(project):
    """`dvc exp run --queue -S 'train.lr=a,b'` then `--run-all`: one experiment per value."""
    run(project, "dvc", "repro", "evaluate")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "pipeline")  # queued runs see only committed files
    run(project, "dvc", "exp", "run", "--queue", *SMALL_EXP, "-S", "train.lr=2e-5,5e-5", "evaluate")
    run(project, "dvc", "exp", "run", "--run-all")
    lrs = sorted(
        e["params"]["params.yaml"]["data"]["train"]["lr"] for e in experiments(project).values()
    )
    assert lrs == [2e-5, 5e-5]
