"""train and evaluate through a real `dvc repro` and `dvc exp run` in a temporary git repository.

The pipeline's contract on a whole run (which stages `dvc repro` runs, the results and plots, a
rerun with nothing to redo, a forced rerun that writes the same bytes, bytecode that is not code,
an experiment that reruns from train on) is checked on the whole `dvc repro` and `dvc exp run`
that tests/lifecycle/test_e2e.py runs anyway (the README's lines), with the helpers below: a
second whole run here proved nothing more (it was the suite's second most expensive test).
"""

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
