"""The README's "lifecycle in git", run verbatim: its two bash blocks, line by line, in a clone of
the project with a bare `origin`, a DVC remote and the GitHub stand-in — from `data add` through
`dvc exp run` to an opened PR, then (after GitHub's merge) params check, release and history.

Its `dvc repro` and `dvc exp run` are also where the pipeline's own contract is checked (what
tests/test_train_pipeline.py checked on a second whole run of its own): which stages run, the
results and plots they write, a rerun that finds nothing to redo, a forced rerun that writes the
same bytes, bytecode that is not code, and an experiment that reruns from train on.

The sandbox is the project as a user clones it, configured for a test machine: conf/ composes the
tiny profile (model=tiny, 5 epochs at lr 1e-3) and a gate for the tiny model (past the TF-IDF
baseline with baseline_margin -1, non_inferior to main by a margin of 1), both committed, as a
project owner would. No line of the README is changed.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from fullcycle.lifecycle import conf
from fullcycle.lifecycle.data_add import TRAIN_AND_COMMIT
from tests.conftest import REPO, git, make_project, run
from tests.lifecycle.conftest import results_in_git, set_gate
from tests.test_train_pipeline import experiments, locked_outs


def readme_blocks() -> list[list[str]]:
    """The command lines of the bash blocks in the README's "The lifecycle in git" section."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## The lifecycle in git", 1)[1].split("\n## ", 1)[0]
    return [
        [line for line in block.splitlines() if line.strip()]
        for block in re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    ]


def sh(cwd: Path, line: str) -> subprocess.CompletedProcess:
    """One README line through bash, exactly as written (its comment included)."""
    done = subprocess.run(
        ["bash", "-eo", "pipefail", "-c", line], cwd=cwd, capture_output=True, text=True
    )
    assert done.returncode == 0, f"`{line}` exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture
def clone(tmp_path: Path, news_csv: Path) -> Path:
    """A user's clone: tiny profile and a loose baseline rule committed, pushed to a bare origin;
    a DVC remote in .dvc/config; the user's file reviews.csv (columns review, sentiment)."""
    root = make_project(tmp_path / "project", overrides=[])
    results_in_git(root)
    conf.set_default(root / "conf", "model", "tiny")
    # enough for the tiny random BERT to learn something: a model that predicts one class for
    # every text predicts the same after any experiment, and the gate refuses it (nothing changed)
    conf.set_value(root / "conf/trainer/cpu.yaml", "max_epochs", 5)
    conf.set_value(root / "conf/train/default.yaml", "lr", 1e-3)
    for ignore in ("data/.gitignore", "bentos/.gitignore"):  # DVC's entries, as committed here
        (root / ignore).parent.mkdir(parents=True, exist_ok=True)
        (root / ignore).write_text((REPO / ignore).read_text())
    run(root, "dvc", "remote", "add", "-d", "store", str(tmp_path / "dvc-remote"))
    (tmp_path / "dvc-remote").mkdir()
    git(root, "add", "-A")
    git(root, "commit", "-qm", "tiny profile for the test machine; a DVC remote")
    # a gate for the tiny model: past TF-IDF, and within noise of main (the rules have their tests)
    set_gate(root, baseline_margin=-1.0, rule="non_inferior", margin=1.0)  # recomposes, commits
    git(tmp_path, "init", "-q", "--bare", "-b", "main", "origin.git")
    git(root, "remote", "add", "origin", "../origin.git")
    git(root, "push", "-q", "origin", "main")
    table = pd.read_csv(news_csv)
    table.rename(columns={"text": "review", "label": "sentiment"}).to_csv(
        root / "reviews.csv", index=False
    )
    return root


@pytest.mark.timeout(1800)  # two full tiny pipelines and a bento: minutes, many more on a busy box
def test_the_readme_lifecycle_runs_verbatim(clone, github, monkeypatch):
    to_pr, after_merge = readme_blocks()
    assert [line.split()[1] for line in to_pr] == [
        "data", "repro", "push", "exp", "exp", "promote",
    ]  # fmt: skip

    outputs = []
    for line in to_pr:
        outputs.append(sh(clone, line).stdout)
        if len(outputs) == 2:  # `dvc repro && git add dvc.lock reports && git commit ...`
            the_run_is_a_function_of_its_inputs(clone, outputs[1])
        elif len(outputs) == 4:  # `dvc exp run -n lr-3e-5 -S train.lr=3e-5`
            the_experiment_reran_from_train(clone, outputs[3])

    # data add ends by naming the README's own next line
    hint = TRAIN_AND_COMMIT.format(name="reviews.csv")
    assert hint in outputs[0] and to_pr[1].startswith(hint)
    # results live in git: main's numbers are readable without a DVC remote
    metrics = json_at(clone, "main", "reports/eval/metrics.json")
    assert "f1_macro" in metrics["test"]
    # exp best ranks HEAD's committed run too
    assert "HEAD" in outputs[4] or "best experiment: lr-3e-5" in outputs[4]
    # promote: the PR is open on the stand-in for GitHub
    [pull] = github.state.pulls
    assert pull["head"]["ref"] == "promote/lr-3e-5" and pull["base"]["ref"] == "main"
    assert "opened pull request #1" in outputs[5]

    # GitHub's merge button: merge the PR branch into origin's main
    merger = clone.parent / "merger"
    git(clone.parent, "clone", "-q", "origin.git", str(merger))
    git(merger, "merge", "-q", "--no-ff", "origin/promote/lr-3e-5", "-m", "Merge pull request #1")
    git(merger, "push", "-q", "origin", "main")

    outputs = [sh(clone, line).stdout for line in after_merge]
    assert "params.yaml matches conf/" in outputs[2]
    assert "lr: 3.0e-05" in (clone / "conf/train/default.yaml").read_text()
    assert "registered classifier@v0.1.0" in outputs[3]
    assert "built bento fullcycle-classifier:v0.1.0 " in outputs[3]
    # the release's bento is in BentoML's store; the package stage's output is as dvc.lock says
    status = run(clone, "dvc", "status").stdout
    assert "bentos/classifier.bento" not in status and "package" not in status, status
    tags = git(clone.parent / "origin.git", "tag", "--list").split()
    assert sorted(tags) == ["classifier#dev#1", "classifier@v0.1.0"]
    kinds = history_kinds(outputs[4])
    assert kinds == ["data", "promotion", "release", "stage"]  # --since-data: the data add on
    assert git(clone, "status", "--porcelain", "--untracked-files=no") == ""


def the_run_is_a_function_of_its_inputs(project: Path, out: str) -> None:
    """`dvc repro` (all stages) trained, evaluated and rendered plots; a second `dvc repro` finds
    nothing to redo; a forced rerun of train and evaluate writes the same bytes; bytecode under
    src/ leaves every stage up to date. Leaves the clone as the README's line left it."""
    assert "Running stage 'train'" in out and "Running stage 'evaluate'" in out
    before = git(project, "status", "--porcelain")
    metrics = json.loads((project / "reports/eval/metrics.json").read_text())
    assert set(metrics["test"]) == {"accuracy", "accuracy_ci", "f1_macro", "f1_macro_ci"}
    assert "| accuracy |" in (project / "reports/model_card.md").read_text()
    assert (project / "models/classifier/fullcycle.json").is_file()
    assert not (project / ".fullcycle/checkpoints").exists()  # only the timing for `fullcycle plan`

    plots = json.loads(run(project, "dvc", "plots", "show", "--json").stdout)["data"]
    assert "reports/eval/confusion.json" in plots
    assert "dvclive/plots/metrics/val/f1_macro.tsv" in plots

    again = run(project, "dvc", "repro")
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
    strays = [project / "src/fullcycle/train/stray.pyc"]
    for package in ("train", "data", "evaluate"):
        cache = project / "src/fullcycle" / package / "__pycache__"
        cache.mkdir(exist_ok=True)
        strays.append(cache / "stage.cpython-311.pyc")
    for stray in strays:
        stray.write_bytes(b"\x00compiled")
    status = json.loads(run(project, "dvc", "status", "--json").stdout)
    assert [s for s in ("prepare", "baseline", "train", "evaluate") if s in status] == []
    for stray in strays:
        stray.unlink()
    assert git(project, "status", "--porcelain") == before  # as the README's line left it


def the_experiment_reran_from_train(project: Path, out: str) -> None:
    """A Hydra override through -S reruns the stages from train on (prepare's inputs did not
    change); `dvc exp show` has its params and metrics, not DVCLive's numbers."""
    assert "Running stage 'train'" in out and "Running stage 'prepare'" not in out
    shown = experiments(project)["lr-3e-5"]
    assert shown["params"]["params.yaml"]["data"]["train"]["lr"] == 3e-5
    assert "f1_macro" in shown["metrics"]["reports/eval/metrics.json"]["data"]["test"]
    # DVCLive's numbers are a plain output (learning rates, steps): not a column of exp show
    assert "dvclive/metrics.json" not in shown["metrics"]
    assert (project / "dvclive/metrics.json").is_file()


def history_kinds(table: str) -> list[str]:
    """The event column of `fullcycle history`'s table, whole lines (a pipe) or wrapped to a
    terminal's width alike: the kind follows the date on an event's first line."""
    return re.findall(r"(?m)^\d{4}-\d\d-\d\d(?: \d\d:\d\d)?\s+(\S+)", table)


def json_at(root: Path, rev: str, path: str) -> dict:
    return yaml.safe_load(git(root, "show", f"{rev}:{path}"))
