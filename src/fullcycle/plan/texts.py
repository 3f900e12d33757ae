"""The project's own texts, as the stages will see them: data/processed when `prepare` has run,
else the configured source read, validated and split in memory by prepare's own code (nothing is
written). Each split is then cut into windows like training and prediction cut it; for speed, at
most `sample` texts of a split are tokenized, and counts are scaled to the split's size."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from fullcycle.core import windows
from fullcycle.core.datamodule import Encoded
from fullcycle.core.splits import SPLITS, read_labels, read_split


@dataclass(frozen=True)
class Split:
    """One split's texts cut into windows (of a sample of at most `sample` texts)."""

    rows: int  # texts in the whole split
    encoded: Encoded  # every window of the sampled texts, as the datamodule encodes them
    windows: windows.Windows  # the same windows, as every prediction batches them

    @property
    def scale(self) -> float:
        """Whole split / sample: multiply what the sample costs by this."""
        return self.rows / max(1, self.encoded.texts)

    @property
    def all_windows(self) -> float:
        return len(self.encoded) * self.scale


@dataclass(frozen=True)
class Texts:
    labels: list[str]
    splits: dict[str, Split]
    source: str  # where they came from, in words
    from_source: bool  # read from the configured source (not prepared yet), as prepare reads it
    read_s: float  # reading (and, from the source, validating and splitting)
    tokenize_s: float  # tokenizing every window of train and val, scaled to their size


def frames(cfg: DictConfig) -> tuple[dict[str, pd.DataFrame], list[str], str, bool]:
    """The splits (text, label) and labels: data/processed if prepared, else the source split in
    memory exactly as `fullcycle prepare` would (its errors included)."""
    data = cfg.data
    processed = Path(data.processed_dir)
    if (processed / "labels.json").is_file():
        labels = read_labels(processed)
        return {s: read_split(processed, s, labels) for s in SPLITS}, labels, str(processed), False
    from fullcycle.core.labelled import add_labelled
    from fullcycle.core.validate import load_and_validate
    from fullcycle.data.split import cap_per_class, split_fractions, stratified_split

    seed = int(data.split.seed)
    fractions = split_fractions(OmegaConf.to_container(data.split))  # type: ignore[arg-type]
    validation = load_and_validate(data)
    base = validation.raise_if_invalid(
        int(data.max_errors), hint="Fix the rows above, then run `fullcycle plan` again."
    )
    splits = stratified_split(cap_per_class(base, data.max_per_class, seed), fractions, seed)
    splits, _ = add_labelled(splits, base, data, fractions, seed)
    labels = sorted(set().union(*(set(df["label"].astype(str)) for df in splits.values())))
    where = f"{validation.source}, split in memory ({processed} is not prepared)"
    return splits, labels, where, True


def load(cfg: DictConfig, tokenizer: Any, sample: int, seed: int) -> Texts:
    """The texts of every split, cut into windows (see the module docstring)."""
    started = time.perf_counter()
    splits, labels, source, from_source = frames(cfg)
    read_s = time.perf_counter() - started
    index = {label: i for i, label in enumerate(labels)}
    max_length, n_windows = int(cfg.model.max_length), int(cfg.model.windows)
    cut: dict[str, Split] = {}
    tokenize_s = 0.0
    for name, df in splits.items():
        part = df.sample(n=sample, random_state=seed) if len(df) > sample else df
        begun = time.perf_counter()
        cut_windows = windows.split(tokenizer, part["text"].tolist(), max_length, n_windows)
        took = time.perf_counter() - begun
        ids = [index[str(x)] for x in part["label"]]
        owner = cut_windows.owner.tolist()
        encoded = Encoded(cut_windows.ids, [ids[t] for t in owner], owner)
        cut[name] = Split(len(df), encoded, cut_windows)
        if name in ("train", "val"):  # what `fullcycle train` tokenizes before it fits
            tokenize_s += took * cut[name].scale
    return Texts(labels, cut, source, from_source, read_s, tokenize_s)


def lengths(split: Split) -> dict[str, float]:
    """Window lengths in tokens: mean and 95th percentile (for the report)."""
    values = np.asarray(split.encoded.lengths or [0])
    return {"mean": float(values.mean()), "p95": float(np.percentile(values, 95))}
