"""The pieces of a trial that need no run: -S flags, reading the metric, the failure reason."""

import json
import os
from pathlib import Path

import pytest

from fullcycle.train.trial_ref import TrialRef
from fullcycle.tune import trial


def test_values_become_override_flags_hydra_reads_back():
    flags = trial.overrides(
        ["model=tiny"],
        {
            "train.lr": 3e-05,
            "train.bucket_by_length": False,
            "model.lora.target_modules": ["query", "value"],
        },
    )
    assert flags == [
        "-S",
        "model=tiny",
        "-S",
        "train.lr=3e-05",
        "-S",
        "train.bucket_by_length=false",
        "-S",
        "model.lora.target_modules=[query,value]",
    ]


def test_the_metric_is_read_from_the_run_s_json(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dvclive").mkdir()
    (tmp_path / "dvclive/metrics.json").write_text('{"best": {"val_f1_macro": 0.91}}')
    assert trial.read_metric("dvclive/metrics.json:best.val_f1_macro") == 0.91
    assert trial.read_metric("dvclive/metrics.json:best.nope") is None
    assert trial.read_metric("missing.json:best.val_f1_macro") is None


def test_a_failed_run_s_reason_is_its_error_line(tmp_path: Path):
    log = tmp_path / "t.log"
    log.write_text(
        "Running stage 'train':\n> fullcycle train\n"
        "error: params.yaml: train.batch_size = 0 is missing or out of range\n"
        "ERROR: failed to reproduce 'train': failed to run: fullcycle train, exited with 2\n"
    )
    assert trial.last_error(log).startswith("error: params.yaml: train.batch_size = 0")


def test_the_trial_reference_survives_the_environment(monkeypatch):
    ref = TrialRef("sqlite:////tmp/x.db", "s", 3, {"type": "median"})
    monkeypatch.setenv("FULLCYCLE_TUNE_TRIAL", ref.to_env())
    assert TrialRef.from_env() == ref
    monkeypatch.delenv("FULLCYCLE_TUNE_TRIAL")
    assert TrialRef.from_env() is None


FAKE_DVC = """\
#!{python}
# stands in for `dvc exp run`: records its call, writes a val macro-F1 that depends on the seed
import json, os, pathlib, sys
args = sys.argv[1:]
name = args[args.index("-n") + 1]
seed = int(next((a.split("=")[1] for a in args if a.startswith("seed=")), "42"))
with open("calls.jsonl", "a") as out:
    out.write(json.dumps({{"name": name, "seed": seed, "report": "FULLCYCLE_TUNE_TRIAL" in os.environ}}) + "\\n")
if os.environ.get("FAKE_FAIL") == name:
    print("error: seed run failed")
    sys.exit(2)
pathlib.Path("dvclive").mkdir(exist_ok=True)
pathlib.Path("dvclive/metrics.json").write_text(json.dumps({{"best": {{"val_f1_macro": seed / 100}}}}))
"""


def _fake_study(tmp_path: Path, monkeypatch, fail: str | None = None):
    """A study in SQLite and a fake `dvc` on PATH, in a directory holding the project's conf/."""
    import shutil
    import sys
    import threading

    import optuna

    from tests.conftest import REPO

    monkeypatch.chdir(tmp_path)
    shutil.copytree(REPO / "conf", tmp_path / "conf")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "dvc").write_text(FAKE_DVC.format(python=sys.executable))
    (bin_dir / "dvc").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    if fail:
        monkeypatch.setenv("FAKE_FAIL", fail)
    url = f"sqlite:///{tmp_path / 's.db'}"
    study = optuna.create_study(study_name="s", storage=url, direction="maximize")
    config = {
        "seeds": 3,
        "metric": "dvclive/metrics.json:best.val_f1_macro",
        "targets": ["train"],
        "pruner": {"type": "none"},
    }
    run = trial.run(
        study, study.ask(), config, ["seed=40"], url, tmp_path / "logs", threading.Event()
    )
    calls = [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]
    return study, run, calls


def test_a_multi_seed_trial_runs_one_experiment_per_seed_and_takes_their_mean(
    tmp_path: Path, monkeypatch
):
    from optuna.trial import TrialState

    study, outcome, calls = _fake_study(tmp_path, monkeypatch)
    # run 0 is the plain trial (its -S seed=40 as given); runs 1, 2 train with seeds 41, 42;
    # only run 0 reports its epochs to the pruner
    assert calls == [
        {"name": "s-0", "seed": 40, "report": True},
        {"name": "s-0-s1", "seed": 41, "report": False},
        {"name": "s-0-s2", "seed": 42, "report": False},
    ]
    assert outcome.state == TrialState.COMPLETE and outcome.value == pytest.approx(0.41)
    attrs = study.trials[0].user_attrs
    assert attrs["experiments"] == ["s-0", "s-0-s1", "s-0-s2"] and attrs["experiment"] == "s-0"
    assert attrs["seed_values"] == pytest.approx([0.40, 0.41, 0.42])
    assert trial.mean(attrs["seed_values"]) == pytest.approx(0.41)
    assert (tmp_path / "logs/s-0-s2.log").is_file()


def test_a_failed_seed_fails_the_trial_with_its_reason(tmp_path: Path, monkeypatch):
    from optuna.trial import TrialState

    _, outcome, calls = _fake_study(tmp_path, monkeypatch, fail="s-0-s1")
    assert [c["name"] for c in calls] == ["s-0", "s-0-s1"]  # seed 2 never ran
    assert outcome.state == TrialState.FAIL
    assert outcome.error.startswith("seed 41 (s-0-s1): error: seed run failed")


def test_seed_overrides_replace_any_other_seed():
    assert trial.seed_overrides(["seed=7", "model=tiny"], {"seed": 3, "train.lr": 0.1}, 9) == [
        "-S",
        "model=tiny",
        "-S",
        "seed=9",
        "-S",
        "train.lr=0.1",
    ]
    assert trial.seed_overrides(["model=tiny"], {}, None) == ["-S", "model=tiny"]
    assert trial.experiment_names("s", 4, 1) == ["s-4"]
