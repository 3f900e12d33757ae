"""Timing this machine: training steps through a Lightning Trainer built from the project's trainer
and train params (the model `fullcycle train` builds, its optimizer, clipping and precision), on
batches drawn as training draws them; and prediction batches as every later stage runs them.

Each timing is a few batches whose sizes (rows x longest window, in tokens) spread like the
data's; `Timed.seconds_for` fits seconds = a + b x tokens to them, so an epoch's estimate is the sum
over all its batches. Warmup steps (the first allocate memory and pick kernels) are not counted.
Nothing is written: no logger, no checkpoint, a temporary root folder.
"""

from __future__ import annotations

import io
import platform
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf
from torch.utils.data import BatchSampler, DataLoader

from fullcycle.core.datamodule import (
    Encoded,
    LengthBucketBatchSampler,
    OneWindowPerText,
    PadCollator,
)
from fullcycle.core.errors import FullcycleError
from fullcycle.core.finetune import model_inputs
from fullcycle.core.windows import Windows

# trainer keys that decide how long a fit is, not how long a step is: the timing run sets its own
FIT_KEYS = ("max_epochs", "max_steps", "min_epochs", "min_steps", "max_time", "val_check_interval")
FIT_KEYS += ("limit_train_batches", "limit_val_batches", "check_val_every_n_epoch")
FIT_KEYS += ("num_sanity_val_steps", "log_every_n_steps", "enable_progress_bar")
FIT_KEYS += ("enable_checkpointing", "enable_model_summary", "logger", "callbacks")


@dataclass(frozen=True)
class Timed:
    """Timed batches: each one's padded tokens and seconds."""

    tokens: list[int]
    seconds: list[float]

    def line(self) -> tuple[float, float]:
        """(a, b) of seconds = a + b x tokens: a least-squares line when the batches' sizes differ
        enough to tell a slope from noise, else proportional (a = 0)."""
        x, y = np.asarray(self.tokens, float), np.asarray(self.seconds, float)
        if len(x) >= 3 and x.max() >= 1.5 * x.min():
            b, a = np.polyfit(x, y, 1)
            if b > 0 and a >= 0:
                return float(a), float(b)
        return 0.0, float(np.median(y / x))

    def seconds_for(self, tokens: Sequence[float]) -> float:
        a, b = self.line()
        return float(sum(a + b * t for t in tokens))

    @property
    def mean_tokens(self) -> float:
        return float(np.mean(self.tokens))


def epoch_batches(encoded: Encoded, batch_size: int, bucket: bool, seed: int, window: str):
    """One epoch's training batches (window indices), drawn as TextDataModule.train_dataloader
    draws them: one window per text, grouped by length when train.bucket_by_length is set."""
    order = OneWindowPerText(encoded, seed, window)
    if bucket:
        return list(LengthBucketBatchSampler(order, batch_size, lengths=encoded.lengths, seed=seed))
    return list(BatchSampler(order, batch_size, drop_last=False))


def padded(lengths: Sequence[int], batch: Sequence[int]) -> int:
    """Tokens of a batch padded to its longest window (PadCollator)."""
    return len(batch) * max(lengths[i] for i in batch)


def pick(sizes: Sequence[int], count: int, warmup: int) -> list[int]:
    """Indices of `warmup` of the largest batches (run first: they allocate the most), then of
    `count` batches at evenly spread quantiles of size."""
    order = sorted(range(len(sizes)), key=lambda i: sizes[i])
    timed = [order[min(len(order) - 1, int((k + 0.5) / count * len(order)))] for k in range(count)]
    return [order[-1 - k % len(order)] for k in range(warmup)] + timed


class StepClock(L.Callback):
    """When each training batch starts and ends."""

    def __init__(self) -> None:
        self.starts: list[float] = []
        self.ends: list[float] = []
        self.cpu: list[float] = []  # the process's CPU seconds (all threads) at each end

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: Any, batch: Any, i: int) -> None:
        if not self.starts:
            self.cpu_start = time.process_time()
        self.starts.append(time.perf_counter())

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: Any, *args: Any) -> None:
        self.ends.append(time.perf_counter())
        self.cpu.append(time.process_time())

    def steps(self) -> list[float]:
        """Each step's seconds, from the previous step's end (loading the batch included)."""
        return [
            end - (self.ends[i - 1] if i else self.starts[0]) for i, end in enumerate(self.ends)
        ]

    def cpu_per_wall(self, warmup: int) -> float:
        """CPU seconds per wall second over the counted steps (threads x how busy they were)."""
        if warmup:
            wall0, cpu0 = self.ends[warmup - 1], self.cpu[warmup - 1]
        else:
            wall0, cpu0 = self.starts[0], self.cpu_start
        wall = self.ends[-1] - wall0
        return (self.cpu[-1] - cpu0) / wall if wall > 0 else 1.0


def trainer_for(
    trainer_cfg: DictConfig, train_cfg: DictConfig, steps: int, clock: StepClock, root: str
) -> L.Trainer:
    """The project's Trainer settings (accelerator, precision, determinism, clipping) for `steps`
    steps on one device, with nothing logged or saved."""
    kwargs: dict[str, Any] = OmegaConf.to_container(trainer_cfg)  # type: ignore[assignment]
    kwargs = {k: v for k, v in kwargs.items() if k not in FIT_KEYS}
    kwargs |= {"devices": 1, "num_nodes": 1, "strategy": "auto"}  # one device: per-device time
    try:
        return L.Trainer(
            **kwargs,
            max_steps=steps,
            max_epochs=1,
            limit_val_batches=0,
            num_sanity_val_steps=0,
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            gradient_clip_val=float(train_cfg.grad_clip),
            callbacks=[clock],
            default_root_dir=root,
        )
    except Exception as exc:  # Lightning's MisconfigurationException, a TypeError for a bad key
        raise FullcycleError(
            f"params.yaml: lightning.Trainer rejects the trainer section for timing: {exc} (on a "
            "machine without a GPU, plan for the cpu profile: `fullcycle plan trainer=cpu`)"
        ) from None


@dataclass(frozen=True)
class TrainTiming:
    steps: Timed
    startup_s: float  # from trainer.fit to the first step (optimizer, loaders, hooks)
    checkpoint_s: float  # writing an epoch's checkpoints (full state + best weights), in memory
    cpu_per_wall: float  # CPU seconds per wall second while stepping: CPU time = wall x this


def train_steps(
    module: L.LightningModule,
    encoded: Encoded,
    batches: list[list[int]],
    cfg: DictConfig,
    warmup: int,
    pad_id: int,
) -> TrainTiming:
    """Fit `module` on `batches` (the first `warmup` not counted) and time each step."""
    clock = StepClock()
    loader = DataLoader(encoded, batch_sampler=batches, collate_fn=PadCollator(pad_id))
    with tempfile.TemporaryDirectory(prefix="fullcycle-plan-") as root:
        trainer = trainer_for(cfg.trainer, cfg.train, len(batches), clock, root)
        begun = time.perf_counter()
        with warnings.catch_warnings():  # validation is timed apart, as prediction batches
            warnings.filterwarnings("ignore", message=".*validation_step.*val_dataloader")
            trainer.fit(module, train_dataloaders=loader)
    if len(clock.ends) < len(batches):
        raise FullcycleError(
            "the timing run stopped early: run `fullcycle --debug plan` to see why"
        )
    startup = clock.starts[0] - begun
    seconds = clock.steps()[warmup:]
    tokens = [padded(encoded.lengths, b) for b in batches[warmup:]]
    cpu = clock.cpu_per_wall(warmup)
    return TrainTiming(Timed(tokens, seconds), startup, checkpoint_seconds(trainer, module), cpu)


def checkpoint_seconds(trainer: L.Trainer, module: L.LightningModule) -> float:
    """Serializing what ModelCheckpoint writes each epoch: the full state (weights and optimizer:
    last.ckpt) and the weights alone (best.ckpt)."""
    state = {"state_dict": module.state_dict(), "optimizer": trainer.optimizers[0].state_dict()}
    begun = time.perf_counter()
    torch.save(state, io.BytesIO())
    torch.save({"state_dict": module.state_dict()}, io.BytesIO())
    return time.perf_counter() - begun


@torch.inference_mode()
def inference(
    model: torch.nn.Module, cut: Windows, batch_size: int, count: int, pad_id: int
) -> Timed:
    """Time `count` prediction batches of `cut` (after one warmup batch), batched by length as
    every stage predicts (Classifier: inference mode, windows sorted by length, on a GPU when
    there is one)."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = model.to(device).eval()
    batches = list(cut.batches(batch_size, pad_id))
    sizes = [ids.size for _, ids, _ in batches]
    tokens, seconds = [], []
    for n, i in enumerate(pick(sizes, count, warmup=1)):
        _, ids, mask = batches[i]
        begun = time.perf_counter()
        feed = {"input_ids": torch.from_numpy(ids), "attention_mask": torch.from_numpy(mask)}
        model(**model_inputs({k: v.to(device) for k, v in feed.items()})).logits.cpu()  # synced
        if n:  # the first is the warmup
            tokens.append(sizes[i])
            seconds.append(time.perf_counter() - begun)
    return Timed(tokens, seconds)


def cpu_name(cpuinfo: str = "/proc/cpuinfo") -> str:
    """The CPU's model name (what the timings hold for)."""
    try:
        text = Path(cpuinfo).read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    names = [
        line.partition(":")[2].strip()
        for line in text.splitlines()
        if line.startswith("model name")
    ]
    return names[0] if names else platform.processor() or "CPU"


def say(message: str) -> None:
    """A progress line on stderr (the estimates go to stdout)."""
    print(f"plan: {message}", file=sys.stderr, flush=True)
