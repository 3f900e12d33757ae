"""What the monitor compares: the training texts (reference) and the texts the model sees now
(current), both scored by the current model.

Current is, first match wins: the file given with `--current`; the versioned traffic batches in
`monitor.production_dir` (the *.parquet files `fullcycle traffic snapshot` wrote, all of them or the
newest `monitor.window`); the held-out `production` split from `prepare`, saying so. Every file goes
through prepare's own reading and checks (labels optional).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from fullcycle.core.splits import read_split
from fullcycle.core.validate import load_and_validate
from fullcycle.monitor.batches import traffic_batches

if TYPE_CHECKING:
    import torch

    from fullcycle.core.classifier import Classifier  # torch: only where a model is loaded


@dataclass
class TextSet:
    """Texts (columns `text`, `label`: None where unlabelled) and where they came from."""

    texts: pd.DataFrame
    source: str
    duplicates: int = 0  # repeated texts dropped (see distinct)

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def labelled(self) -> pd.DataFrame:
        return self.texts[self.texts["label"].notna()]


@dataclass
class Scored:
    """A TextSet with the model's predicted label and sentence embedding for every text."""

    texts: TextSet
    predicted: np.ndarray  # label strings
    embeddings: np.ndarray  # (rows, hidden size) float32
    confidence: np.ndarray | None = None  # the predicted label's probability, per text


def distinct(texts: pd.DataFrame, source: str) -> TextSet:
    """Count each text once. A repeated text would sit on both sides of the domain classifiers'
    train/test split and make identical traffic look different from the training data."""
    unique = texts.drop_duplicates(subset="text", keep="first").reset_index(drop=True)
    return TextSet(unique, source, duplicates=len(texts) - len(unique))


def reference(data: DictConfig, labels: list[str]) -> TextSet:
    processed = Path(data.processed_dir)
    train = read_split(processed, "train", labels, labels_from="the model's labels")
    return distinct(train[["text", "label"]], f"training split ({processed / 'train.parquet'})")


def held_out_test(data: DictConfig, labels: list[str]) -> pd.DataFrame:
    """The test split: the held-out labelled texts the current accuracy is compared with."""
    return read_split(Path(data.processed_dir), "test", labels, labels_from="the model's labels")


def current(
    data: DictConfig, monitor: DictConfig, labels: list[str], path: str | None = None
) -> TextSet:
    """The current texts (see the module docstring for where they come from)."""
    if path is not None:
        return distinct(read_file(data, path), str(path))
    batches = traffic_batches(monitor)
    if batches:
        # batches hold `text` (and `predicted`, never `label`) whatever the training columns
        traffic = OmegaConf.merge(data, {"text_col": "text", "label_col": "label"})
        texts = pd.concat([read_file(traffic, p) for p in batches], ignore_index=True)
        if len(texts):
            span = (
                batches[0].stem if len(batches) == 1 else f"{batches[0].stem} to {batches[-1].stem}"
            )
            where = (
                f"versioned traffic ({len(batches)} batch(es) in {monitor.production_dir}/: {span})"
            )
            return distinct(texts, where)
    processed = Path(data.processed_dir)
    split = read_split(processed, "production", labels, labels_from="the model's labels")
    where = (
        f"held-out production split ({processed / 'production.parquet'}; no versioned traffic "
        f"in {monitor.production_dir}/ yet: `fullcycle traffic snapshot` makes it)"
    )
    return distinct(split[["text", "label"]], where)


def read_file(data: DictConfig, path: str | Path) -> pd.DataFrame:
    """A data file through prepare's checks, labels optional; an empty file is zero rows (a
    capture file exists before the first request), never an error."""
    path = Path(path)
    if path.is_file() and path.suffix.lower() != ".parquet" and not path.read_bytes().strip():
        return pd.DataFrame({"text": [], "label": []}, dtype=object)
    validation = load_and_validate(data, path=str(path), require_labels=False)
    if validation.rows == 0:  # a header without rows, an empty Parquet file
        return pd.DataFrame({"text": [], "label": []}, dtype=object)
    clean = validation.raise_if_invalid(
        int(data.get("max_errors", 20)),
        hint=f"Fix the rows above in {path}, then run `fullcycle monitor` again.",
    )
    return clean[["text", "label"]]


def score(model: Classifier, texts: TextSet, batch_size: int) -> Scored:
    batch = list(texts.texts["text"])
    if not batch:
        return Scored(texts, np.array([], dtype=object), np.zeros((0, 0), dtype=np.float32))
    probs, embeddings = model.score(batch, batch_size)  # one forward pass for both
    confidence = probs.max(-1).values.numpy()
    return Scored(texts, most_probable(model, probs), embeddings.numpy(), confidence)


def score_labels(model: Classifier, texts: list[str], batch_size: int) -> np.ndarray:
    """The model's predicted label for each text, as strings."""
    return most_probable(model, model.probabilities(texts, batch_size))


def most_probable(model: Classifier, probs: torch.Tensor) -> np.ndarray:
    """The label of each row's highest probability, as strings."""
    return np.array(model.labels, dtype=object)[probs.argmax(-1).numpy()]
