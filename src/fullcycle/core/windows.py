"""Whole-article reading: a text longer than the model's `max_length` is read as consecutive
windows of `max_length` tokens (each with the tokenizer's special tokens), and the text's class
probabilities are the mean of its windows' (up to `windows` of them; 1 is plain truncation).

A BBC article has ~390 tokens; its first 128 are the title and the lede. Reading the rest is what
TF-IDF does and a truncated transformer cannot: averaged over an article's windows, the default
model's test accuracy rose from 0.9774 to 0.9850 (README, "Training"). One implementation serves
every runtime (PyTorch and ONNX Runtime; numpy only here), so evaluate, optimize, serve and monitor
read texts the same way.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Windows:
    """The token ids of every window of every text, and for each window the index of its text."""

    ids: list[list[int]]
    owner: np.ndarray  # (windows,) text index
    texts: int

    def batches(
        self, batch_size: int, pad_id: int
    ) -> Iterator[tuple[list[int], np.ndarray, np.ndarray]]:
        """(window indices, input_ids, attention_mask) for batches of windows of similar length,
        padded to their longest (int64 arrays)."""
        order = sorted(range(len(self.ids)), key=lambda j: len(self.ids[j]))
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            width = max(len(self.ids[j]) for j in idx)
            input_ids = np.full((len(idx), width), pad_id, dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, j in enumerate(idx):
                input_ids[row, : len(self.ids[j])] = self.ids[j]
                mask[row, : len(self.ids[j])] = 1
            yield idx, input_ids, mask

    def mean(self, rows: np.ndarray) -> np.ndarray:
        """Per-window rows (probabilities, embeddings) -> per-text means, in text order."""
        total = np.zeros((self.texts, *rows.shape[1:]), dtype=np.float64)
        np.add.at(total, self.owner, rows)
        counts = np.bincount(self.owner, minlength=self.texts).clip(min=1)
        return total / counts.reshape(-1, *([1] * (rows.ndim - 1)))


def split(tokenizer: Any, texts: Sequence[str], max_length: int, windows: int = 1) -> Windows:
    """Cut each text into at most `windows` windows of `max_length` tokens, specials included.
    The first window is exactly what truncation at `max_length` gives."""
    texts = list(texts)
    if not texts:
        return Windows([], np.zeros(0, dtype=np.int64), 0)
    if windows <= 1:
        ids = tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]
        return Windows(list(ids), np.arange(len(texts)), len(texts))
    prefix, suffix = _specials(tokenizer)
    body = max_length - len(prefix) - len(suffix)
    if body < 1:
        raise ValueError(f"max_length {max_length} leaves no room for text between the specials")
    raw = tokenizer(texts, add_special_tokens=False, truncation=True, max_length=body * windows)[
        "input_ids"
    ]
    out: list[list[int]] = []
    owner: list[int] = []
    for i, tokens in enumerate(raw):
        for start in range(0, max(len(tokens), 1), body):
            out.append(prefix + tokens[start : start + body] + suffix)
            owner.append(i)
    return Windows(out, np.asarray(owner, dtype=np.int64), len(texts))


def _specials(tokenizer: Any) -> tuple[list[int], list[int]]:
    """The special tokens the tokenizer puts before and after a text ([CLS] and [SEP] for BERT)."""
    plain = tokenizer("a", add_special_tokens=False)["input_ids"]
    full = tokenizer("a")["input_ids"]
    for at in range(len(full) - len(plain) + 1):
        if full[at : at + len(plain)] == plain:
            return full[:at], full[at + len(plain) :]
    raise ValueError(f"cannot tell where {type(tokenizer).__name__} puts its special tokens")
