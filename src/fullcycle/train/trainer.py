"""The Lightning Trainer `fullcycle train` fits with (its checkpoints, early stopping, DVCLive
logger and progress lines), and fitting with it: an interrupted fit says in one line what the next
run does."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
from lightning.fabric.utilities.exceptions import MisconfigurationException
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from omegaconf import DictConfig, OmegaConf

from fullcycle.core.datamodule import TextDataModule
from fullcycle.core.errors import FullcycleError
from fullcycle.core.finetune import MONITOR, TextClassifier
from fullcycle.train import checkpoints, progress

LIVE_DIR = Path("dvclive")  # DVCLive's folder, a stage output


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


def fit(
    trainer: L.Trainer,
    module: TextClassifier,
    data: TextDataModule,
    resume: checkpoints.Resume | None,
    hint: ResumeHint,
) -> None:
    """Fit (from `resume`'s checkpoint if any); an interruption is an error that says what the
    next run does."""
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
