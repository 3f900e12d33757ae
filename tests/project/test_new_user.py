"""A new user's project, run as they would run it (issue 23, item 5): `fullcycle init` on a CSV that
is not BBC (support tickets: `message`, `team`, three classes), then the rendered README's two
commands there, then one lifecycle flow each against a bare origin and a local DVC remote.

The README's commands run through the project's own Makefile, with two test-only variables:
`VENV=<this test's environment>` and `-o setup`. `make -o setup` treats the phony `setup` target as
up to date and so never runs its recipe (checked with `make -n`: no `python -m venv`, no `pip
install`): the project runs on the fullcycle installed here and nothing is installed into the test
environment (`setup` would otherwise build a fresh .venv with pip: minutes, and the network). The
run is the README's quick run: the tiny model through OVERRIDES (a DVC experiment).

Cost: one whole `dvc exp run` (all 8 stages as 8 processes, tiny model, 120 texts: ~70 s), a
promotion and the project's `make test` (its tiny smoke run: ~30 s together); about 100 s on a
shared 2-core box, so it comes right after test_e2e.py in tests/conftest.py's SLOWEST_FIRST. The
project is made and run once per module (`made`); each test takes a copy of the state it starts
from.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml

from fullcycle.cli import main
from fullcycle.lifecycle import records
from tests.conftest import git, run
from tests.lifecycle.conftest import Sandbox, set_gate
from tests.lifecycle.test_snapshot import Clock, capture
from tests.project.conftest import TEAMS, tickets_csv

pytestmark = pytest.mark.timeout(1500)  # minutes on an idle box, many more on a busy one

# The README's quick run, shrunk as tests/conftest.py's SMALL: 40 texts a class, one epoch, and
# test / production splits that hold every class.
OVERRIDES = "model=tiny trainer.max_epochs=1 data.max_per_class=40"
OVERRIDES += " data.split.test=0.15 data.split.production=0.15"
TICKET_COLUMNS = ["--text-col", "message", "--label-col", "team"]
# Never the project's own .venv: this environment, and `setup` taken as done (see the docstring).
MAKE_VARS = [f"VENV={sys.prefix}", "-o", "setup"]
# Written by a run and by `make test`, and never to be committed.
STRAYS = [".venv/bin/python", "tests/__pycache__/x.pyc", ".pytest_cache/README.md"]
STRAYS += [".fullcycle/checkpoints/last.ckpt", "dvclive/metrics.json", "models/classifier/x"]
STRAYS += ["bentos/classifier.bento", "data/processed/train.parquet", "data/captured/x.log"]


@dataclass
class Made:
    fresh: Sandbox  # just made by `fullcycle init`, its first commit on origin, a DVC remote
    ran: Sandbox  # the same after the README's `make repro` (the quick run)
    readme: str
    experiment: str  # the quick run's name, as `make repro` printed it
    status: list[str]  # `git status --porcelain` right after it


def env() -> dict[str, str]:
    """The environment of the commands the user types: this test run's (offline, a temporary
    BENTOML_HOME, a git identity) without pytest's own variables, one torch thread per process
    (the tiny model gains nothing from a second one on a busy 2-core box)."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return keep | {"OMP_NUM_THREADS": "1"}


def make(root: Path, target: str, *variables: str) -> str:
    done = subprocess.run(
        ["make", target, *MAKE_VARS, *variables],
        cwd=root,
        capture_output=True,
        text=True,
        env=env(),
        timeout=1200,
    )
    assert done.returncode == 0, (
        f"make {target} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    )
    return done.stdout + done.stderr


def status(root: Path) -> list[str]:
    """`git status --porcelain` lines, their leading column kept (tests.conftest.git strips it)."""
    out = run(root, "git", "status", "--porcelain", "--untracked-files=all").stdout
    return out.splitlines()


def readme_commands(readme: str) -> list[str]:
    """The command lines of the README's "The two commands" block."""
    section = readme.split("## The two commands", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, flags=re.S)
    assert block, "the README's two commands are in a bash block"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def readme_commit_paths(readme: str) -> list[str]:
    """What the README says to commit after `make repro`: its `git add PATHS && git commit`."""
    found = re.search(r"^git add (.+?) && git commit", readme, flags=re.M)
    assert found, "the README says how to commit a run's results"
    return found.group(1).split()


def declared_results(root: Path) -> set[str]:
    """dvc.yaml's `cache: false` outputs: the results committed with dvc.lock."""
    pipeline = yaml.safe_load((root / "dvc.yaml").read_text(encoding="utf-8"))
    return {
        name
        for stage in pipeline["stages"].values()
        for kind in ("outs", "metrics", "plots")
        for entry in stage.get(kind) or []
        if not isinstance(entry, str)
        for name, spec in entry.items()
        if (spec or {}).get("cache", True) is False
    }


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Made:
    base = tmp_path_factory.mktemp("new-user")
    data = tickets_csv(base / "tickets.csv")
    user = env() | {"FULLCYCLE_TEMPLATE_STORE": str(base / "template-store")}
    box = Sandbox(base / "sandbox")
    box.base.mkdir()
    done = subprocess.run(
        ["fullcycle", "init", str(box.root), "--data", str(data), *TICKET_COLUMNS],
        capture_output=True,
        text=True,
        env=user,
    )
    assert done.returncode == 0, f"fullcycle init:\n{done.stdout}\n{done.stderr}"
    assert git(box.root, "status", "--porcelain", "--untracked-files=all") == ""
    # The project owner's choices for a test machine: the tiny model cannot beat TF-IDF, so the
    # gate lets any candidate past the baseline rule (the gate's rules have their own tests).
    set_gate(box.root, baseline_margin=-1.0)  # recomposes params.yaml, commits
    git(box.base, "init", "-q", "--bare", "-b", "main", "origin.git")
    box.git("remote", "add", "origin", "../origin.git")
    box.git("push", "-q", "origin", "main")
    (box.base / "dvc-remote").mkdir()
    run(box.root, "dvc", "remote", "add", "--local", "-d", "store", "../dvc-remote")
    fresh = box.copy(base / "fresh")

    readme = (box.root / "README.md").read_text(encoding="utf-8")
    assert readme_commands(readme) == ["make repro", "make test"]
    out = make(box.root, "repro", f"OVERRIDES={OVERRIDES}")
    name = re.search(r"Ran experiment\(s\): (\S+)", out)
    assert name, out
    return Made(fresh, box, readme, name.group(1), status(box.root))


def test_the_run_writes_only_its_declared_results(made, tmp_path):
    """`make repro` leaves exactly what the pipeline writes for git (dvc.lock, the overridden
    params.yaml, dvc.yaml's `cache: false` reports); the README's commit line takes all of it,
    after which git status is clean. No .gitignore of DVC's: the template ships every one its
    cached outputs need (a `dvc exp run` commit leaves new ones out, so after a promotion main
    would show those outputs as untracked files)."""
    changed = {line[3:] for line in made.status if line.startswith(" M")}
    untracked = {line[3:] for line in made.status if line.startswith("??")}
    assert len(changed) + len(untracked) == len(made.status), made.status
    assert changed == {"params.yaml"}  # the overrides (a DVC experiment)
    assert untracked == declared_results(made.ran.root) | {"dvc.lock"}, made.status
    # caches, checkpoints, models and captured traffic are ignored, not just absent this time
    ignored = git(made.ran.root, "check-ignore", "--no-index", *STRAYS).splitlines()
    assert sorted(ignored) == sorted(STRAYS)

    paths = readme_commit_paths(made.readme)
    assert all(any(f == p or f.startswith(f"{p}/") for p in paths) for f in changed | untracked)
    box = made.ran.copy(tmp_path / "copy")
    box.git("add", *paths)
    box.git("commit", "-qm", "Train on tickets.csv")
    assert status(box.root) == []


def test_promote_then_make_test_on_main(made, github, tmp_path, monkeypatch):
    """The quick run promoted (the README's way: its overrides reach main through conf/), the PR
    merged, the user back on main as fullcycle's README says; then the README's `make test`
    passes there (params compose, the data validates, the smoke run) and leaves git status clean."""
    box = made.ran.copy(tmp_path / "ran")
    monkeypatch.chdir(box.root)
    assert main(["promote", made.experiment]) == 0
    [pull] = github.state.pulls
    branch = f"promote/{made.experiment}"
    assert pull["head"]["ref"] == branch and pull["base"]["ref"] == "main"
    assert box.git("branch", "--show-current") == "main"

    merger = box.base / "merger"  # GitHub's merge button
    git(box.base, "clone", "-q", "origin.git", str(merger))
    git(merger, "merge", "-q", "--no-ff", f"origin/{branch}", "-m", "Merge pull request #1")
    git(merger, "push", "-q", "origin", "main")
    box.git("stash", "--include-untracked")  # the applied experiment, put aside
    box.git("pull", "-q", "origin", "main")
    run(box.root, "dvc", "pull", "-q")
    assert "model: tiny" in (box.root / "conf/config.yaml").read_text()  # conf/ says the run's
    assert status(box.root) == []

    out = make(box.root, "test")
    assert re.search(r"\b\d+ passed\b", out) and "skipped" not in out, out
    assert status(box.root) == []
    assert "up to date" in run(box.root, "dvc", "status").stdout  # dvc.lock matches main


def test_traffic_snapshot(made, tmp_path, monkeypatch):
    box = made.fresh.copy(tmp_path / "fresh")
    monkeypatch.chdir(box.root)
    clock = Clock()
    monkeypatch.setattr("fullcycle.lifecycle.snapshot.utc_now", clock)
    capture(
        box.root / "data/captured", [f"my parcel {i} is late, mail a{i}@b.io" for i in range(5)]
    )
    clock.settle()
    assert main(["traffic", "snapshot"]) == 0
    [batch] = sorted((box.root / "data/production").glob("*.parquet"))
    assert (box.root / f"data/production/{batch.name}.dvc").is_file()
    assert pd.read_parquet(batch)["text"].str.contains("<EMAIL>").all()
    fields = records.trailer(records.TRAFFIC, box.git("log", "-1", "--format=%B"))
    assert fields["rows"] == "5"
    assert any((box.base / "dvc-remote").rglob("*"))
    assert status(box.root) == []
    box.git("push", "-q", "origin", "main")
    assert box.origin_git("rev-parse", "main") == box.git("rev-parse", "HEAD")


def test_label_import(made, tmp_path, monkeypatch, capsys):
    box = made.fresh.copy(tmp_path / "fresh")
    monkeypatch.chdir(box.root)
    rows = [
        (f"A new {word} question from a customer", team) for team in TEAMS for word in TEAMS[team]
    ]
    src = tmp_path / "reviewed.csv"
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(src, index=False)
    assert main(["label", "import", str(src)]) == 0
    out = capsys.readouterr().out
    assert f"labels: {len(rows)} rows from reviewed.csv" in out
    assert "pushed to DVC remote 'store'" in out
    fields = records.trailer(records.LABELS, box.git("log", "-1", "--format=%B"))
    assert fields["rows"] == str(len(rows)) and fields["new_labels"] == "none"
    [written] = (box.root / "data/raw/labelled").glob("*.csv")
    assert (box.root / f"data/raw/labelled/{written.name}.dvc").is_file()
    assert status(box.root) == []
    # a label the project does not have is refused, naming the file's row
    wrong = tmp_path / "wrong.csv"
    pd.DataFrame([("Where is my refund?", "sales")], columns=["text", "label"]).to_csv(
        wrong, index=False
    )
    assert main(["label", "import", str(wrong)]) != 0
    assert "label 'sales'" in capsys.readouterr().err
    box.git("push", "-q", "origin", "main")
    assert box.origin_git("rev-parse", "main") == box.git("rev-parse", "HEAD")
