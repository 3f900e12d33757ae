"""`fullcycle train`: fine-tune model.name_or_path on data/processed, write models/classifier/.

Reads the seed, data, model, trainer and train sections of params.yaml. Training curves go to
dvclive/ (a stage output); the epoch train.keep names (best by validation macro-F1, or the last)
is what gets saved. An interrupted run leaves checkpoints behind and the next run resumes from the
last finished epoch (checkpoints.py).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.fabric.utilities.exceptions import MisconfigurationException
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.utilities import rank_zero_only
from omegaconf import DictConfig, OmegaConf

from fullcycle.core import classifier, evidence, params
from fullcycle.core.datamodule import WINDOW_CHOICES, TextDataModule
from fullcycle.core.errors import FullcycleError
from fullcycle.core.finetune import MONITOR, TextClassifier
from fullcycle.core.io import atomic_path
from fullcycle.core.logs import quiet
from fullcycle.core.provenance import dvc_md5
from fullcycle.train import checkpoints, lora, progress, pruning

log = logging.getLogger(__name__)

MODEL_DIR = classifier.DEFAULT_DIR
LIVE_DIR = Path("dvclive")
# the saved epoch's label for every validation text: `fullcycle tune` compares trials with it
VAL_PREDICTIONS = LIVE_DIR / "val_predictions.json"

# Texts are tokenized up front: loader worker processes would only add start-up time.
warnings.filterwarnings("ignore", message=".*does not have many workers.*")
# lightning 2.6 calls an API that torch 2.13 deprecates; nothing for a user to act on
warnings.filterwarnings("ignore", message=".*isinstance\\(treespec, LeafSpec\\)")


def check_train_params(train: DictConfig) -> None:
    rules = {
        "batch_size": lambda v: int(v) >= 1,
        "lr": lambda v: float(v) > 0,
        "weight_decay": lambda v: float(v) >= 0,
        "warmup_ratio": lambda v: 0 <= float(v) < 1,
        "label_smoothing": lambda v: 0 <= float(v) < 1,
        "grad_clip": lambda v: float(v) >= 0,
        "patience": lambda v: int(v) >= 1,
        # optional (null: off)
        "head_lr": lambda v: v is None or float(v) > 0,
        "layer_decay": lambda v: v is None or 0 < float(v) <= 1,
        "window": lambda v: v is None or v in WINDOW_CHOICES,
        "keep": lambda v: v is None or v in ("best", "last"),
    }
    optional = ("head_lr", "layer_decay", "window", "keep")
    for key, ok in rules.items():
        try:
            good = (key in train or key in optional) and ok(train.get(key))
        except (TypeError, ValueError):
            good = False
        if not good:
            raise FullcycleError(
                f"params.yaml: train.{key} = {train.get(key)!r} is missing or out of range; "
                f"fix it in conf/train/ (then `fullcycle params`) or with -S train.{key}=..."
            )


def model_windows(model: DictConfig) -> int:
    """model.windows: how many windows of max_length tokens a prediction reads (absent: 1)."""
    value = model.get("windows", 1)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise FullcycleError(
            f"params.yaml: model.windows = {value!r} must be a whole number of at least 1 "
            "(1 reads the first max_length tokens only); fix it in conf/model/ or with "
            "-S model.windows=..."
        )
    return value


def build_trainer(
    trainer_cfg: DictConfig,
    train_cfg: DictConfig,
    ckpt_dir: Path,
    resuming: bool,
    extra_callbacks: Sequence[L.Callback] = (),
) -> L.Trainer:
    """A Lightning Trainer from the `trainer` params (any Trainer argument) plus what fullcycle
    fixes: best-of-run and last checkpoints in `ckpt_dir`, early stopping, the DVCLive logger, and
    off a terminal plain progress lines instead of the bar (unless trainer.enable_progress_bar
    is set)."""
    from dvclive.lightning import DVCLiveLogger  # imports dvc: only when training

    callbacks = [
        # the best epoch's weights, then (in this order, so it records the best so far) the full
        # state of every finished epoch: what an interrupted run resumes from
        ModelCheckpoint(
            dirpath=ckpt_dir,
            filename="best",
            monitor=MONITOR,
            mode="max",
            save_top_k=1,
            save_weights_only=True,
            enable_version_counter=False,
        ),
        ModelCheckpoint(
            dirpath=ckpt_dir,
            filename=checkpoints.LAST.removesuffix(".ckpt"),
            save_top_k=1,
            enable_version_counter=False,
        ),
        EarlyStopping(monitor=MONITOR, mode="max", patience=int(train_cfg.patience)),
        LearningRateMonitor(logging_interval="step"),
        checkpoints.LiveSnapshot(LIVE_DIR),
        *extra_callbacks,
    ]
    logger = DVCLiveLogger(dir=str(LIVE_DIR), dvcyaml=False, save_dvc_exp=False, resume=resuming)
    kwargs: dict[str, Any] = OmegaConf.to_container(trainer_cfg)  # type: ignore[assignment]
    if "enable_progress_bar" not in kwargs and not progress.is_terminal():
        # the bar redraws one line in place: in a log file, plain lines say how far it got
        kwargs["enable_progress_bar"] = False
        callbacks.append(progress.PlainProgress())
    try:
        return L.Trainer(
            **kwargs,
            gradient_clip_val=float(train_cfg.grad_clip),
            callbacks=callbacks,
            logger=logger,
            default_root_dir=ckpt_dir,
        )
    except TypeError as exc:
        raise FullcycleError(
            f"params.yaml: the trainer section has a key lightning.Trainer does not take ({exc}). "
            "Keys under trainer: are passed to lightning.Trainer as they are."
        ) from None
    except (MisconfigurationException, ValueError, RuntimeError) as exc:
        raise FullcycleError(
            f"params.yaml: lightning.Trainer rejects the trainer section: {exc} "
            "(on a machine without a GPU, use the default profile: -S trainer=cpu)"
        ) from None


def best_weights(module: TextClassifier, checkpoint: ModelCheckpoint) -> None:
    """Load the best epoch's weights (by validation macro-F1) into `module`."""
    if checkpoint.best_model_path:  # empty when validation never ran (e.g. limit_val_batches=0)
        state = torch.load(checkpoint.best_model_path, map_location="cpu", weights_only=False)
        module.load_state_dict(state["state_dict"])


def provenance(cfg: DictConfig, data: TextDataModule, data_hash: str) -> dict[str, Any]:
    """What a model came from, stored in its fullcycle.json: only what the stage's inputs
    determine (params, DVC's hash of the processed data), so the same inputs give the same bytes.
    The git commit is stamped when the model is packaged or released (fullcycle.serve.model)."""
    sections = {k: OmegaConf.to_container(cfg[k]) for k in ("model", "train", "trainer")}
    return {
        "base_model": cfg.model.name_or_path,
        "params": sections | {"seed": int(cfg.get("seed", 0))},
        "data": {
            "processed_dir": str(data.processed_dir),
            "md5": data_hash,  # DVC's hash, as dvc.lock records data/processed
            "rows": {name: len(split) for name, split in data.splits.items()},
        },
    }


class ResumeHint(L.Callback):
    """On Ctrl-C, says in one line what the next run does (Lightning itself only exits 1)."""

    def __init__(self, ckpt_dir: Path) -> None:
        self.ckpt_dir = ckpt_dir
        self.message: str | None = None

    def on_exception(
        self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException
    ) -> None:
        if not isinstance(exception, KeyboardInterrupt):
            return
        if (self.ckpt_dir / checkpoints.LAST).is_file():
            self.message = (
                f"training stopped in epoch {trainer.current_epoch + 1}: the next `dvc repro` or "
                "`fullcycle train` (same params and data) resumes from the last finished epoch"
            )
        else:
            self.message = (
                "training stopped before its first epoch finished: the next `dvc repro` or "
                "`fullcycle train` starts from the beginning"
            )


def run(cfg: DictConfig, callbacks: Sequence[L.Callback] = ()) -> dict[str, Any]:
    """Train, save models/classifier/, return a summary. `callbacks` are added to the Trainer's."""
    seed = int(cfg.get("seed", 0))
    data_cfg, model_cfg = params.section(cfg, "data"), params.section(cfg, "model")
    train_cfg, trainer_cfg = params.section(cfg, "train"), params.section(cfg, "trainer")
    check_train_params(train_cfg)
    L.seed_everything(seed, workers=True, verbose=False)

    tokenizer = classifier.load_tokenizer(model_cfg.name_or_path)
    data = TextDataModule(
        data_cfg.processed_dir,
        tokenizer,
        model_cfg.max_length,
        train_cfg.batch_size,
        train_cfg.bucket_by_length,
        seed,
        n_windows=model_windows(model_cfg),
        window=str(train_cfg.get("window") or "first"),
    )
    mixed = "mixed" in str(trainer_cfg.get("precision", ""))
    model = lora.wrap(classifier.build_model(model_cfg, data.labels), model_cfg)
    module = TextClassifier(
        model,
        data.labels,
        float(train_cfg.lr),
        float(train_cfg.weight_decay),
        float(train_cfg.warmup_ratio),
        seed,
        fused_adamw=not mixed,
        label_smoothing=float(train_cfg.label_smoothing),
        head_lr=None if train_cfg.get("head_lr") is None else float(train_cfg.head_lr),
        layer_decay=float(train_cfg.get("layer_decay") or 1.0),
    )

    data_hash = dvc_md5(data_cfg.processed_dir)
    ckpt_dir = checkpoints.run_dir(cfg, data_hash)
    resume = checkpoints.resume(ckpt_dir, LIVE_DIR)  # None unless a run like this was interrupted
    if resume:
        print(f"train: resuming an interrupted run at epoch {resume.epoch} from {resume.path}")
    if rank_zero_only.rank == 0:
        print(lora.describe(model, model_cfg))
    hint = ResumeHint(ckpt_dir)
    callbacks = [
        *callbacks,
        *pruning.from_env(),
        hint,
    ]  # a `fullcycle tune` trial reports each epoch
    trainer = build_trainer(trainer_cfg, train_cfg, ckpt_dir, bool(resume), callbacks)
    try:
        trainer.fit(module, datamodule=data, ckpt_path=resume.path if resume else None)
    except SystemExit:  # Lightning's answer to Ctrl-C: a graceful shutdown, then exit(1)
        if hint.message is None:
            raise
        raise KeyboardInterrupt(hint.message) from None
    if trainer.interrupted:
        raise FullcycleError(
            hint.message or "training was interrupted: run it again to resume from the last epoch."
        )

    best = next(cb for cb in trainer.checkpoint_callbacks if cb.monitor == MONITOR)
    if train_cfg.get("keep", "best") == "best":
        best_weights(module, best)
        score = best.best_model_score
    else:  # last: the weights the schedule ended on (training stops early on no progress)
        score = trainer.callback_metrics.get(MONITOR)
    summary = {
        "val_f1_macro": None if score is None else float(score),
        "epochs": trainer.current_epoch,
        "resumed_at_epoch": resume.epoch if resume else None,
    }
    if trainer.is_global_zero:
        # dvclive/metrics.json holds the last epoch's numbers; add the saved epoch's ("best":
        # the name `fullcycle tune` reads, whichever epoch train.keep saved)
        live = trainer.logger.experiment
        live.summary["best"] = {"val_f1_macro": summary["val_f1_macro"]}
        meta = provenance(cfg, data, data_hash) | {
            "val_f1_macro": summary["val_f1_macro"],
            "epochs": summary["epochs"],
        }
        with atomic_path(MODEL_DIR) as tmp:
            classifier.save(
                tmp,
                lora.merged(module.model),
                tokenizer,
                data.labels,
                model_cfg.max_length,
                model_windows(model_cfg),
                **meta,
            )
        write_val_predictions(data_cfg.processed_dir, live.summary)
        live.make_summary()
        checkpoints.clean()
    return summary


def write_val_predictions(processed_dir: str | Path, live_summary: dict[str, Any]) -> None:
    """The saved model's validation predictions (dvclive/val_predictions.json) and the interval
    of its validation metrics (dvclive/metrics.json: best.val_f1_macro_ci), from the saved model
    itself, so they are what was kept, not an epoch's running average."""
    from fullcycle.core.splits import read_split

    model = classifier.Classifier(MODEL_DIR)
    val = read_split(processed_dir, "val", model.labels, labels_from=f"{MODEL_DIR}'s labels")
    pred = classifier.split_predictions(model, val)
    VAL_PREDICTIONS.write_text(evidence.dumps({"val": pred}), encoding="utf-8")
    ci = evidence.interval(pred)
    live_summary["best"] |= {
        "val_f1_macro_ci": ci["f1_macro_ci"],
        "val_accuracy_ci": ci["accuracy_ci"],
    }


def main() -> None:
    quiet()
    summary = run(params.load())
    score = summary["val_f1_macro"]
    if rank_zero_only.rank == 0:  # once, not once per DDP process
        print(
            f"train: {summary['epochs']} epoch(s), best val macro-F1 "
            f"{'n/a' if score is None else f'{score:.4f}'}; model saved to {MODEL_DIR}/"
        )
