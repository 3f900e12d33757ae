"""Training throughput: fullcycle's loop next to a bare PyTorch loop and transformers' Trainer, and
length bucketing next to padding every text to max length.

The three loops train fresh copies of one model initialisation on the very same batches (one
DataLoader from fullcycle's datamodule: same texts, order, batch size, max length and padding),
with the same optimiser (fused AdamW, linear warmup/decay, gradient clipping at 1.0), on the CPU.
fullcycle's loop is the real one: the Trainer that `fullcycle train` builds (callbacks, DVCLive
logger, progress bar). The first steps of each run are not timed; rounds are interleaved (a, b, c,
then b, c, a, ...) and each step is timed start to start: the median and the best step of each loop
are compared (every step does the same work, so the best is the one least disturbed by other
work on a shared machine).
Targets: fullcycle >= 0.95x the bare loop and >= 1.0x Trainer; bucketing >= 1.3x padding.

BBC texts fill all 128 tokens (the default max length), so bucketing is measured at 512 tokens,
on BBC articles (a third still fill all 512: at most ~1.25x to gain) and on the same articles cut
to 1-12 sentences (lengths as varied as reviews or messages).

    .venv/bin/python bench/train_throughput.py [--rows 160] [--max-length 128] [--batch-size 16]
        [--rounds 2] [--bucket-rows 64] [--bucket-max-length 512] [--model minilm|tiny]
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import random
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
import lightning as L
import pandas as pd
import torch
from omegaconf import OmegaConf
from transformers import (
    Trainer,
    TrainerCallback,
    TrainingArguments,
    get_linear_schedule_with_warmup,
)
from transformers.utils import logging as hf_logging

from fullcycle.core import params
from fullcycle.core.classifier import build_model, load_tokenizer
from fullcycle.core.datamodule import TextDataModule
from fullcycle.core.finetune import TextClassifier
from fullcycle.train.stage import build_trainer

ROOT = Path(__file__).resolve().parents[1]
LR, WEIGHT_DECAY, WARMUP_RATIO, CLIP, SEED = 1e-4, 0.01, 0.1, 1.0, 0
warnings.filterwarnings("ignore")
hf_logging.set_verbosity_error()


class Meter:
    """When each step began and ended, and how many texts it trained on."""

    def __init__(self, skip: int) -> None:
        self.skip = skip  # warm-up steps, not counted
        self.begins: list[float] = []
        self.sizes: list[int] = []
        self.end = 0.0

    def step_begins(self, samples: int) -> None:
        self.begins.append(time.perf_counter())
        self.sizes.append(samples)

    def step_ends(self) -> None:
        self.end = time.perf_counter()

    @property
    def rate(self) -> float:
        """Samples per second over all counted steps (for batches of unequal lengths)."""
        return sum(self.sizes[self.skip :]) / (self.end - self.begins[self.skip])

    @property
    def step_rates(self) -> list[float]:
        """Samples per second of each counted step, start to start (data loading included)."""
        starts, sizes = self.begins[self.skip :], self.sizes[self.skip :]
        return [sizes[i] / (starts[i + 1] - starts[i]) for i in range(len(starts) - 1)]


def texts(rows: int) -> pd.DataFrame:
    """`rows` training texts (a seeded sample): data/processed if prepared, else the BBC corpus."""
    processed = ROOT / "data/processed/train.parquet"
    if processed.is_file():
        df = pd.read_parquet(processed)
    else:
        from fullcycle.data.prepare import load_and_validate

        df = load_and_validate(OmegaConf.create(params.compose(ROOT / "conf")["data"])).clean
    return df.sample(n=min(rows, len(df)), random_state=SEED).reset_index(drop=True)


def datamodule(
    df: pd.DataFrame,
    work: Path,
    model: str,
    max_length: int,
    batch_size: int,
    bucket: bool = True,
    pad_to_max: bool = False,
) -> TextDataModule:
    for split in ("train", "val"):
        df.to_parquet(work / f"{split}.parquet", index=False)
    (work / "labels.json").write_text(json.dumps(sorted(df["label"].unique())))
    data = TextDataModule(
        work,
        load_tokenizer(model),
        max_length,
        batch_size,
        bucket_by_length=bucket,
        seed=SEED,
        pad_to_max_length=pad_to_max,
    )
    data.setup()
    return data


def fullcycle_loop(model, data: TextDataModule, skip: int, work: Path) -> Meter:
    meter = Meter(skip)

    class Timer(L.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            meter.step_begins(len(batch["labels"]))

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            meter.step_ends()

    module = TextClassifier(model, data.labels, LR, WEIGHT_DECAY, WARMUP_RATIO, SEED)
    trainer_cfg = OmegaConf.create(params.compose(ROOT / "conf")["trainer"])
    trainer_cfg.max_epochs, trainer_cfg.limit_val_batches = 1, 1  # validation is not timed
    train_cfg = OmegaConf.create({"grad_clip": CLIP, "patience": 1})
    with contextlib.chdir(work):  # dvclive/ and checkpoints go to the scratch folder
        trainer = build_trainer(trainer_cfg, train_cfg, work / "ckpt", False, [Timer()])
        trainer.fit(module, datamodule=data)
    return meter


def bare_loop(model, data: TextDataModule, skip: int) -> Meter:
    meter = Meter(skip)
    model.train()
    params_ = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params_ if p.ndim >= 2], "weight_decay": WEIGHT_DECAY},
        {"params": [p for p in params_ if p.ndim < 2], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=LR, fused=True)
    loader = data.train_dataloader()
    schedule = get_linear_schedule_with_warmup(
        optimizer, int(len(loader) * WARMUP_RATIO), len(loader)
    )
    for batch in loader:
        meter.step_begins(len(batch["labels"]))
        loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params_, CLIP)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        meter.step_ends()
    return meter


def hf_trainer(model, data: TextDataModule, skip: int, work: Path) -> Meter:
    meter = Meter(skip)
    loader = data.train_dataloader()

    class Timer(TrainerCallback):
        def on_step_begin(self, args, state, control, **kwargs):
            meter.step_begins(data.batch_size)  # --rows a multiple of it: every batch is full

        def on_step_end(self, args, state, control, **kwargs):
            meter.step_ends()

    class SameBatches(Trainer):
        def get_train_dataloader(self):
            return loader

    args = TrainingArguments(
        output_dir=str(work / "hf"),
        per_device_train_batch_size=data.batch_size,
        num_train_epochs=1,
        learning_rate=LR,
        weight_decay=WEIGHT_DECAY,
        warmup_steps=WARMUP_RATIO,
        max_grad_norm=CLIP,
        logging_steps=10,
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        seed=SEED,
        dataloader_num_workers=0,
    )
    SameBatches(
        model=model, args=args, train_dataset=data.splits["train"], callbacks=[Timer()]
    ).train()
    return meter


def report(args: argparse.Namespace, rows: int, steps: dict[str, list[float]]) -> None:
    """Median and best step of each loop. The best step is the one least disturbed by other work
    on the machine (every step here does the same work: full batches of max-length texts)."""
    print(
        f"\n{args.model}, {rows} texts, batch {args.batch_size}, max length {args.max_length}, "
        f"{torch.get_num_threads()} threads, {args.rounds} interleaved rounds; samples/s per step:"
    )
    print(f"  {'':24s} {'median':>8s} {'best':>8s}  steps")
    for name, rates in steps.items():
        print(f"  {name:24s} {statistics.median(rates):8.2f} {max(rates):8.2f}  {len(rates)}")
    ours = steps["fullcycle (Lightning)"]
    for other, target in (("bare PyTorch loop", 0.95), ("transformers Trainer", 1.0)):
        theirs = steps[other]
        print(
            f"  fullcycle / {other:20s} median {statistics.median(ours) / statistics.median(theirs):.3f}x"
            f", best {max(ours) / max(theirs):.3f}x  (target >= {target})"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="minilm", help="minilm (default) or tiny")
    ap.add_argument("--rows", type=int, default=160, help="training texts per loop")
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--skip", type=int, default=2, help="untimed warm-up steps per run")
    ap.add_argument("--bucket-rows", type=int, default=64, help="0 skips the bucketing part")
    ap.add_argument("--bucket-max-length", type=int, default=512)
    args = ap.parse_args()
    if args.rows < args.batch_size * (args.skip + 2):
        ap.error(
            f"--rows must give at least {args.skip + 2} batches: {args.skip} untimed + 2 timed"
        )
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    model_cfg = OmegaConf.create(params.compose(ROOT / "conf", [f"model={args.model}"])["model"])
    df = texts(max(args.rows, args.bucket_rows))

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data = datamodule(df.head(args.rows), work, args.model, args.max_length, args.batch_size)
        torch.manual_seed(SEED)
        base = build_model(OmegaConf.merge(model_cfg, {"max_length": args.max_length}), data.labels)
        loops = {
            "fullcycle (Lightning)": lambda m: fullcycle_loop(m, data, args.skip, work),
            "bare PyTorch loop": lambda m: bare_loop(m, data, args.skip),
            "transformers Trainer": lambda m: hf_trainer(m, data, args.skip, work),
        }
        steps: dict[str, list[float]] = {name: [] for name in loops}
        names = list(loops)
        for r in range(args.rounds):  # rotate who goes first: a, b, c / b, c, a / ...
            for name in names[r % 3 :] + names[: r % 3]:
                steps[name] += loops[name](copy.deepcopy(base)).step_rates
        report(args, len(data.splits["train"]), steps)

        lengths = data.splits["train"].lengths
        full = sum(n >= args.max_length for n in lengths) / len(lengths)
        print(
            f"\n{full:.0%} of these texts fill all {args.max_length} tokens: at that length "
            "bucketing has no padding to save."
        )
        if args.bucket_rows:
            length = args.bucket_max_length
            torch.manual_seed(SEED)
            base = build_model(OmegaConf.merge(model_cfg, {"max_length": length}), data.labels)
            sub = df.head(args.bucket_rows)
            for name, sample in (("BBC articles", sub), ("varied lengths", varied(sub))):
                bucketing(name, sample, base, args, work)


def varied(df: pd.DataFrame) -> pd.DataFrame:
    """The articles cut to their first 1 to 12 sentences: texts of many lengths, as reviews,
    tickets or messages are (BBC articles are nearly all longer than 512 tokens' worth)."""
    rng = random.Random(SEED)
    cut = [". ".join(t.split(". ")[: rng.randint(1, 12)]) for t in df["text"]]
    return df.assign(text=cut)


def bucketing(name: str, df: pd.DataFrame, base, args: argparse.Namespace, work: Path) -> None:
    """fullcycle's loop over one whole epoch (its batches differ in length, so all are timed):
    length buckets with dynamic padding, then random batches padded to max length."""
    length, rates = args.bucket_max_length, []
    for bucket, pad in ((True, False), (False, True)):
        d = datamodule(df, work, args.model, length, args.batch_size, bucket, pad)
        rates.append(fullcycle_loop(copy.deepcopy(base), d, 0, work).rate)
    lengths = d.splits["train"].lengths
    print(
        f"\n{name}: {len(df)} texts, max length {length}, mean length "
        f"{sum(lengths) / len(lengths):.0f} tokens ({sum(n >= length for n in lengths)} fill it):"
    )
    print(f"  {'length buckets, dynamic padding':36s} {rates[0]:8.2f} samples/s")
    print(f"  {'random batches padded to max length':36s} {rates[1]:8.2f} samples/s")
    print(f"  bucketing / padding to max length {rates[0] / rates[1]:6.3f}x  (target >= 1.3)")


if __name__ == "__main__":
    main()
