"""`fullcycle tune` for real: every trial a `dvc exp run` of the tiny model in a git repository,
the study in SQLite. Trials stop after `train` (the study's value is validation macro-F1)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from fullcycle.lifecycle import experiments
from fullcycle.tune import search, trial
from fullcycle.tune import study as studies
from tests.conftest import run

# each trial is a real `dvc exp run` (a few seconds on an idle 2-core machine, minutes on a busy one)
# Nine real `dvc exp run` trials in all: minutes each on 2 cores, so `slow` (`make test-all` runs them);
# the fast suite keeps the search-space, trial and LoRA tests.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.usefixtures("one_thread"),
    pytest.mark.timeout(1800),
]

# every trial: the tiny model, 20 texts per class, 2 epochs
FIXED = ["-S", "model=tiny", "-S", "data.max_per_class=20", "-S", "trainer.max_epochs=2"]
SPACE = """\
study: s
trials: 4
targets: [train]
pruner: {type: median, startup_trials: 2}
space:
  train.lr: {type: float, low: 1.0e-4, high: 1.0e-2, log: true, choices: [1.0e-2]}
  train.batch_size: {type: categorical, choices: [8, 16]}
"""


@pytest.fixture
def tuned_project(project_factory, tmp_path) -> Path:
    root = project_factory(["model=tiny", "data.max_per_class=20", "trainer.max_epochs=2"])
    (tmp_path / "space.yaml").write_text(SPACE)
    return root


def tune(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    space = str(root.parent / "space.yaml")
    return run(
        root, "fullcycle", "tune", "--space", space, *FIXED, *args, check=check, timeout=1700
    )


def load(root: Path, name: str = "s") -> optuna.Study:
    return optuna.load_study(study_name=name, storage=f"sqlite:///{root}/.fullcycle/tune/{name}.db")


SHOW = argparse.Namespace(
    show=True,
    study=None,
    sampler=None,
    trials=None,
    seeds=None,
    storage=None,
    jobs=1,
    set=[],
    space=None,
)


def test_a_tpe_study_runs_each_trial_as_a_dvc_experiment(tuned_project, capsys):
    done = tune(tuned_project, "--sampler", "tpe", "--trials", "4")
    study = load(tuned_project)
    assert studies.finished(study) == 4 and len(study.trials) == 4
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert len(complete) >= 2  # the median pruner starts judging after 2 finished trials
    # each finished trial is an experiment named <study>-<number>, listed by `dvc exp show`
    _, exps = experiments.listing()  # dvc.api.exp_show
    by_name = {e.name: e for e in exps}
    for t in complete:
        exp = by_name[f"s-{t.number}"]
        assert exp.params["train.lr"] == pytest.approx(t.params["train.lr"])
        assert exp.params["train.batch_size"] == t.params["train.batch_size"]
        assert exp.params["model.name_or_path"] == "tiny"
    best = max(complete, key=lambda t: t.value)
    assert f"promote it with: fullcycle promote s-{best.number}" in done.stdout
    assert "(the study never looks at the test split)" in done.stdout
    report = tuned_project / "reports/tune/s"
    assert (report / "history.html").is_file() and (report / "trials.md").is_file()
    # --show prints the same table without running anything
    shown = search.cli_tune(
        argparse.Namespace(**{**vars(SHOW), "space": str(tuned_project.parent / "space.yaml")})
    )
    assert shown == 0 and f"s-{best.number}" in capsys.readouterr().out
    assert len(load(tuned_project).trials) == 4
    # `fullcycle exp best` ranks the tuned experiments (here on the validation number)
    winner = run(
        tuned_project,
        "fullcycle",
        "exp",
        "best",
        "--metric",
        "dvclive/metrics.json:best.val_f1_macro",
        "--json",
    )
    assert json.loads(winner.stdout)["name"].startswith("s-")


def test_a_two_seed_trial_is_two_experiments_and_their_mean(tuned_project):
    done = tune(tuned_project, "--sampler", "random", "--trials", "1", "--seeds", "2")
    (only,) = load(tuned_project).trials
    assert only.state == TrialState.COMPLETE
    names = only.user_attrs[studies.EXPERIMENTS]
    assert names == ["s-0", "s-0-s1"]
    # each seed is its own experiment (the plain trial's seed, then seed + 1), same values
    by_name = {e.name: e for e in experiments.listing()[1]}
    assert [by_name[n].params["seed"] for n in names] == [42, 43]
    assert by_name["s-0-s1"].params["train.lr"] == pytest.approx(only.params["train.lr"])
    values = [trial.read_metric("dvclive/metrics.json:best.val_f1_macro", rev=n) for n in names]
    assert only.user_attrs[studies.SEED_VALUES] == values
    assert only.value == pytest.approx(sum(values) / 2)
    out = " ".join(done.stdout.split())
    assert "the mean of 2 seeds: s-0, s-0-s1" in out
    if "data.split.seed" in by_name["s-0"].params:  # the seeds trained on the same split: their
        row = next(ln for ln in done.stdout.splitlines() if ln.startswith("s-0 "))
        assert row.split()[1:4] == [f"{only.value:.4f}", row.split()[2], "best"]  # predictions pair
        assert row.split()[2] != "-"
    # the project's commit was never trained: no predictions of main's to compare with
    assert "vs main: main's current params (commit" in out and "cannot be compared" in out


def test_grid_with_a_pruned_and_a_failed_trial(tuned_project, tmp_path):
    # batch size 0 is refused by the train stage: that trial fails with its error, the study goes
    # on; the threshold pruner stops every run whose val macro-F1 after epoch 0 is below 0.99
    (tmp_path / "space.yaml").write_text(
        "study: g\ntargets: [train]\npruner: {type: threshold, lower: 0.99}\n"
        "space:\n  train.batch_size: {type: categorical, choices: [0, 8]}\n"
    )
    done = tune(tuned_project, "--sampler", "grid", "--trials", "5")
    assert "the grid has 2 points" in done.stdout
    study = load(tuned_project, "g")
    by_size = {t.params["train.batch_size"]: t for t in study.trials}
    assert sorted(by_size) == [0, 8] and len(study.trials) == 2
    failed, pruned = by_size[0], by_size[8]
    assert failed.state == TrialState.FAIL
    assert "train.batch_size = 0 is missing or out of range" in failed.user_attrs["error"]
    assert pruned.state == TrialState.PRUNED and list(pruned.intermediate_values) == [0]
    assert pruned.user_attrs["pruned_at_epoch"] == 0
    assert "failures:" in done.stdout and "pruned@0" in done.stdout


def _wait_for(predicate, timeout: float = 600) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(1)


def test_kill_9_then_the_same_command_continues_to_n_trials(tuned_project):
    space = str(tuned_project.parent / "space.yaml")
    cmd = ["fullcycle", "tune", "--space", space, *FIXED, "--trials", "2", "--sampler", "random"]
    proc = subprocess.Popen(
        cmd, cwd=tuned_project, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )

    def second_trial_training() -> bool:
        if not (tuned_project / ".fullcycle/tune/s.db").is_file():
            return False
        try:
            trials = load(tuned_project).trials
        except KeyError:  # the file exists before the study is recorded in it
            return False
        return (
            len(trials) == 2
            and trials[0].state == TrialState.COMPLETE
            and "fullcycle train" in (tuned_project / ".fullcycle/tune/s/s-1.log").read_text()
        )

    try:
        _wait_for(second_trial_training)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    group = load(tuned_project).trials[1].user_attrs[studies.GROUP]

    tune(tuned_project, "--trials", "2", "--sampler", "random")
    with pytest.raises(ProcessLookupError):  # the orphaned `dvc exp run` was stopped
        os.killpg(group, 0)
    trials = load(tuned_project).trials
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.FAIL, TrialState.COMPLETE]
    assert trials[1].user_attrs[studies.INTERRUPTED] is True
    assert trials[2].user_attrs[studies.RETRY_OF] == 1 and trials[2].params == trials[1].params
    assert studies.finished(load(tuned_project)) == 2
    # the study is done: the same command again runs nothing
    again = tune(tuned_project, "--trials", "2", "--sampler", "random")
    assert "2 of 2 trial(s) finished" in again.stdout and len(load(tuned_project).trials) == 3
