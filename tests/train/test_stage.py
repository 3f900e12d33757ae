"""The train stage for real (tiny model, small data, CPU): reproducible, resumable after a kill,
clear about bad configuration."""

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from fullcycle import cli
from fullcycle.core import params
from fullcycle.core.classifier import Classifier, read_meta
from fullcycle.core.errors import FullcycleError
from fullcycle.core.provenance import dvc_md5
from fullcycle.data import prepare
from fullcycle.train import checkpoints, progress, stage, timing

pytestmark = pytest.mark.usefixtures("one_thread")

# 3 short epochs, a curve point every 2 steps: enough to tell runs apart
THREE_EPOCHS = [
    "model=tiny",
    "data.max_per_class=40",
    "trainer.max_epochs=3",
    "train.lr=3e-3",
    "trainer.log_every_n_steps=2",
]


@pytest.fixture
def prepared(project_factory) -> Path:
    root = project_factory(THREE_EPOCHS)
    prepare.run(params.load())
    return root


def outcome(root: Path) -> dict:
    """What a run produced: the saved weights and the DVCLive curves (without timestamps)."""
    curves = {}
    for tsv in sorted((root / "dvclive/plots/metrics").rglob("*.tsv")):
        rows = tsv.read_text().splitlines()
        curves[tsv.relative_to(root).as_posix()] = [r.split("\t")[-2:] for r in rows]
    weights = (root / "models/classifier/model.safetensors").read_bytes()
    return {"weights": weights, "curves": curves}


def as_dvc_would(root: Path) -> None:
    """DVC deletes a stage's outputs before it runs the stage."""
    shutil.rmtree(root / "models", ignore_errors=True)
    shutil.rmtree(root / "dvclive", ignore_errors=True)


def test_train_writes_a_loadable_model_with_its_provenance(prepared):
    summary = stage.run(params.load())
    assert summary["epochs"] == 3 and summary["resumed_at_epoch"] is None
    meta = read_meta(prepared / "models/classifier")
    assert meta["labels"] == ["business", "entertainment", "politics", "sports", "tech"]
    assert meta["data"]["md5"] == dvc_md5("data/processed")  # DVC's hash, as dvc.lock has it
    assert meta["params"]["train"]["lr"] == 3e-3 and meta["params"]["seed"] == 42
    assert "git_commit" not in meta  # the same inputs give the same bytes, at any commit
    assert meta["val_f1_macro"] == summary["val_f1_macro"]
    assert len(Classifier(prepared / "models/classifier").predict(["Shares rose on Monday."])) == 1
    live = json.loads((prepared / "dvclive/metrics.json").read_text())
    assert live["best"]["val_f1_macro"] == summary["val_f1_macro"] and live["epoch"] == 2
    assert not (prepared / ".fullcycle/checkpoints").exists()  # nothing left to resume
    assert timing.read(prepared / timing.LAST_TRAIN)["epochs"] == 3  # `fullcycle plan` reads it


def test_keep_saves_the_best_epoch_or_the_last(prepared):
    runs = {}
    for keep in ("best", "last"):
        as_dvc_would(prepared)
        cfg = params.load()
        cfg.train.keep = keep
        runs[keep] = stage.run(cfg), outcome(prepared)
    best, last = runs["best"], runs["last"]
    curve = [float(v) for _, v in last[1]["curves"]["dvclive/plots/metrics/val/f1_macro.tsv"][1:]]
    assert best[0]["val_f1_macro"] == pytest.approx(max(curve))
    assert last[0]["val_f1_macro"] == pytest.approx(curve[-1])
    # the same run either way: the weights are the same exactly when the last epoch is the first
    # to reach the best score (a tie keeps the earlier epoch)
    assert (best[1]["weights"] == last[1]["weights"]) == (curve.index(max(curve)) == len(curve) - 1)
    assert read_meta(prepared / "models/classifier")["val_f1_macro"] == last[0]["val_f1_macro"]


def test_any_save_pretrained_folder_is_a_starting_point(prepared, trained_model):
    cfg = params.load()
    cfg.model.name_or_path, cfg.model.max_length = str(trained_model), 32
    cfg.trainer.max_epochs = 1
    stage.run(cfg)
    meta = read_meta(prepared / "models/classifier")
    assert meta["base_model"] == str(trained_model) and meta["max_length"] == 32


def test_same_seed_same_metrics_and_weights(prepared):
    first = stage.run(params.load()), outcome(prepared)
    as_dvc_would(prepared)
    second = stage.run(params.load()), outcome(prepared)
    assert first == second


def test_off_a_terminal_progress_is_plain_lines_and_the_model_is_the_same(
    prepared, capsys, monkeypatch
):
    with monkeypatch.context() as patch:
        patch.setattr(progress, "is_terminal", lambda: True)  # as on a terminal: the bar
        with_bar = stage.run(params.load()), outcome(prepared)
    drawn = capsys.readouterr()
    # Lightning's (rich) bar: off a terminal it shows only where it ended, once
    assert "Epoch 2/2 " in drawn.out and " done: " not in drawn.out
    # from here pytest's captured output: not a terminal, like a log file
    as_dvc_would(prepared)
    plain = stage.run(params.load()), outcome(prepared)
    printed = capsys.readouterr()
    done = [line for line in printed.out.splitlines() if " done: " in line]
    assert [line.split(" done: ")[0] for line in done] == [f"train: epoch {e}/3" for e in (1, 2, 3)]
    assert all("train loss" in line and "f1_macro" in line for line in done), done
    assert "Epoch 2/2 " not in printed.out  # no bar
    assert plain == with_bar  # logging only: the same weights and curves


def kill_training(root: Path, *at: int) -> None:
    script = Path(__file__).with_name("interrupted_train.py")
    done = subprocess.run(
        [sys.executable, str(script), *map(str, at)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]


def test_ctrl_c_says_in_one_line_that_the_next_run_resumes(prepared):
    script = Path(__file__).with_name("interrupted_train.py")
    done = subprocess.run(
        [sys.executable, str(script), "ctrl-c", "1"],  # Ctrl-C as epoch 2 of 3 starts
        cwd=prepared,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 130, done.stderr[-2000:]
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("interrupted: training stopped in epoch 2: the next `dvc repro` or "
                           "`fullcycle train`"), done.stderr[-2000:]  # fmt: skip
    assert "resumes from the last finished epoch" in last and "Traceback" not in done.stderr
    as_dvc_would(prepared)
    assert stage.run(params.load())["resumed_at_epoch"] == 1  # what the line promised


@pytest.mark.parametrize(
    ("kill_at", "resumes_at"),
    [
        ((2,), 2),  # between epochs 1 and 2: nothing is lost
        ((1, 3), 1),
    ],  # at batch 3 of epoch 1: that epoch's 3 batches are lost and redone
    ids=["between-epochs", "mid-epoch"],
)
def test_an_interrupted_run_resumes_and_ends_exactly_like_an_uninterrupted_one(
    prepared, kill_at, resumes_at
):
    reference = stage.run(params.load()), outcome(prepared)

    as_dvc_would(prepared)
    kill_training(prepared, *kill_at)
    assert (next(checkpoints.ROOT.iterdir()) / checkpoints.LAST).is_file()
    assert not (prepared / "models/classifier").exists()

    as_dvc_would(prepared)
    summary = stage.run(params.load())
    assert summary["resumed_at_epoch"] == resumes_at
    assert (summary | {"resumed_at_epoch": None}, outcome(prepared)) == reference
    assert not (prepared / ".fullcycle/checkpoints").exists()


def test_checkpoints_are_keyed_to_params_and_data(prepared):
    cfg = params.load()
    key = checkpoints.run_key(cfg, "data-v1")
    assert checkpoints.run_key(cfg, "data-v1") == key
    assert checkpoints.run_key(cfg, "data-v2") != key
    changed = OmegaConf.merge(cfg, {"train": {"lr": 1e-4}})
    assert checkpoints.run_key(changed, "data-v1") != key


def test_an_unreadable_checkpoint_is_dropped_not_resumed(prepared):
    directory = prepared / ".fullcycle/checkpoints/abc"
    directory.mkdir(parents=True)
    (directory / checkpoints.LAST).write_bytes(b"cut short by a kill")
    assert checkpoints.resume(directory, prepared / "dvclive") is None
    assert not directory.exists()


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.lr=-1", "train.lr = -1: must be a number > 0 (conf/train/default.yaml)"),
        ("train.batch_size=0", "train.batch_size = 0: must be a whole number >= 1"),
        ("train.label_smoothing=1.0", "train.label_smoothing = 1.0: must be a number in [0, 1)"),
        ("train.window=middle", "train.window = 'middle': must be one of first, random"),
        ("train.keep=first", "train.keep = 'first': must be one of last, best"),
        ("train.layer_decay=1.5", "train.layer_decay = 1.5: must be a number in (0, 1], or null"),
        ("model.windows=0", "model.windows = 0: must be a whole number >= 1 (conf/model/)"),
        ("model.windows=all", "model.windows = 'all': must be a whole number >= 1"),
        ("+train.lrr=1", "train.lrr is not a setting (did you mean train.lr? train has: batch_"),
    ],
)
def test_bad_configuration_is_one_line_before_any_work(project, capsys, override, message):
    """The schema (core/schema.py) refuses it as the params are composed: nothing is trained."""
    assert cli.main(["train", "model=tiny", override]) == 2
    err = capsys.readouterr().err
    assert f"conf/ with model=tiny {override}: {message}" in err and "Traceback" not in err
    assert not (project / "models").exists()


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("trainer.no_such_option", 1, r"trainer section has a key lightning.Trainer does not take"),
        ("trainer.accelerator", "gpu", r"rejects the trainer section.*-S trainer=cpu"),
        ("model.name_or_path", "no/such-model", r"'no/such-model' is not a folder"),
    ],
)
def test_bad_configuration_is_a_clear_error(prepared, key, value, message):
    """What only the libraries can refuse: a Trainer argument, a device, a model."""
    cfg = params.load()
    OmegaConf.update(cfg, key, value, force_add=True)
    with pytest.raises(FullcycleError, match=message):
        stage.run(cfg)
    assert not (prepared / "models").exists()


def test_missing_data_says_run_prepare(project):
    with pytest.raises(
        FullcycleError, match=r"data/processed/labels.json not found: run `fullcycle prepare`"
    ):
        stage.run(params.load())
