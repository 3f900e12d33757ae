"""Training progress as plain lines when the output is not a terminal.

Lightning's progress bar redraws itself in place: in a log file (`dvc repro > train.log`, CI, a
queued `dvc exp run`) its rich bar shows nothing until the run ends (tqdm's, carriage-return
noise). So, off a terminal, the bar is turned off and `PlainProgress` prints a line every few steps (about
LINES_PER_EPOCH an epoch) and one line per epoch with its validation metrics. It only reads what
the module logged and the loss it returned: the trained model is the same either way.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from typing import Any

import lightning as L
import torch

LINES_PER_EPOCH = 10  # step lines in an epoch, plus the epoch's own line


def is_terminal() -> bool:
    """The bar is drawn only when both streams reach a person: Lightning's rich bar draws on
    stdout, its tqdm bar on stderr, and either redirected means the run is logged to a file."""
    return all(stream is not None and stream.isatty() for stream in (sys.stdout, sys.stderr))


def _loss(outputs: Any) -> torch.Tensor | None:
    """The loss training_step returned (a tensor, or a dict holding one under "loss")."""
    if isinstance(outputs, dict):
        outputs = outputs.get("loss")
    return outputs.detach() if isinstance(outputs, torch.Tensor) else None


class _Mean:
    """A running mean kept on the loss's device: reading it is the only host sync."""

    def __init__(self) -> None:
        self.total: torch.Tensor | None = None
        self.count = 0

    def add(self, value: torch.Tensor | None) -> None:
        if value is not None:
            self.total = value if self.total is None else self.total + value
            self.count += 1

    def text(self) -> str:
        return "n/a" if self.total is None else f"{float(self.total) / self.count:.4f}"


class PlainProgress(L.Callback):
    """Prints `train: epoch E/N step S/T ...` every `ceil(T / lines_per_epoch)` steps and
    `train: epoch E/N done ...` at the end of each epoch (the global-zero process only)."""

    def __init__(
        self, lines_per_epoch: int = LINES_PER_EPOCH, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.lines_per_epoch = max(1, lines_per_epoch)
        self.clock = clock
        self.every = 1
        self.batches: int | None = None  # None: an iterable of unknown length
        self.val: dict[str, float] = {}

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.started = self.clock()

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.epoch_started = self.clock()
        total = trainer.num_training_batches
        self.batches = int(total) if math.isfinite(total) else None
        # unknown length: a line every 50 steps, so a long epoch is still seen moving
        self.every = math.ceil(self.batches / self.lines_per_epoch) if self.batches else 50
        self.every = max(1, self.every)
        self.epoch_loss, self.recent_loss, self.steps, self.val = _Mean(), _Mean(), 0, {}

    def on_train_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        loss = _loss(outputs)
        self.epoch_loss.add(loss)
        self.recent_loss.add(loss)
        self.steps = batch_idx + 1
        if self.steps % self.every or self.steps == self.batches:
            return  # the last step is told by the epoch's line
        of = f"/{self.batches}" if self.batches else ""
        self._say(
            trainer,
            f"{self._epoch(trainer)} step {self.steps}{of}: train loss {self.recent_loss.text()} "
            f"(mean of the last {self.recent_loss.count} steps), {self._elapsed(self.epoch_started)}",
        )
        self.recent_loss = _Mean()

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # here the module's epoch-end metrics are logged (in on_validation_epoch_end they are not)
        if not trainer.sanity_checking:
            self.val = {
                name.removeprefix("val/"): float(value)
                for name, value in sorted(trainer.callback_metrics.items())
                if name.startswith("val/")
            }

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        val = ", ".join(f"{name} {value:.4f}" for name, value in self.val.items())
        self._say(
            trainer,
            f"{self._epoch(trainer)} done: {self.steps} steps (global step {trainer.global_step}), "
            f"train loss {self.epoch_loss.text()}, val {val or 'not run'}, "
            f"{self._elapsed(self.epoch_started)} (total {self._elapsed(self.started)})",
        )

    def _epoch(self, trainer: L.Trainer) -> str:
        epochs = trainer.max_epochs
        return f"epoch {trainer.current_epoch + 1}" + (
            f"/{epochs}" if epochs and epochs > 0 else ""
        )

    def _elapsed(self, since: float) -> str:
        return f"{self.clock() - since:.1f}s"

    def _say(self, trainer: L.Trainer, line: str) -> None:
        if trainer.is_global_zero:  # once, not once per DDP process
            print(f"train: {line}", flush=True)  # flushed: a file is block-buffered
