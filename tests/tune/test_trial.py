"""The pieces of a trial that need no run: -S flags, reading the metric, the failure reason."""

from pathlib import Path

from fullcycle.train.pruning import TrialRef
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
