"""Batches for fine-tuning, read from the processed splits that `prepare` wrote.

Texts are tokenized once, up front, into windows of max_length tokens (fullcycle.core.windows: up to
model.windows of them). Each epoch trains on one window of each text: the first (the title and the
lede) or, with train.window=random, one drawn per epoch, so the model learns to read any part of an
article; validation reads every window and averages, as evaluate and the service do. Each batch is
padded only to its longest window (dynamic padding), and training batches group windows of similar
length (length bucketing) so that little compute goes to padding. Every random choice depends only
on (seed, epoch): a run resumed at epoch k sees exactly the batches an uninterrupted run sees at
epoch k.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import lightning as L
import pandas as pd
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, Sampler

from fullcycle.core import windows
from fullcycle.core.splits import read_labels, read_split

POOL_BATCHES = 50  # bucket within pools of this many batches: similar lengths, still shuffled


WINDOW_CHOICES = ("first", "random")


class Encoded(Dataset):
    """Token ids (unpadded) and label ids of every window of one split; `owner` is each window's
    text (row) index, and a text's windows are consecutive, first window first."""

    def __init__(
        self, input_ids: list[list[int]], labels: list[int], owner: Sequence[int] | None = None
    ) -> None:
        self.input_ids, self.labels = input_ids, labels
        self.owner = list(range(len(labels)) if owner is None else owner)
        self.lengths = [len(ids) for ids in input_ids]
        self.texts = max(self.owner, default=-1) + 1
        self.first = [0] * self.texts  # each text's first window and its number of windows
        self.count = [0] * self.texts
        for j in reversed(range(len(self.owner))):
            self.first[self.owner[j]] = j
            self.count[self.owner[j]] += 1

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {"input_ids": self.input_ids[i], "label": self.labels[i], "text": self.owner[i]}

    def by_length(self) -> Encoded:
        """The same windows, shortest first: unshuffled batches of neighbours then pad little."""
        order = sorted(range(len(self)), key=self.lengths.__getitem__)
        return Encoded(
            [self.input_ids[i] for i in order],
            [self.labels[i] for i in order],
            [self.owner[i] for i in order],
        )


class EpochShuffle(Sampler[int]):
    """A permutation that depends only on (seed, epoch); Lightning calls set_epoch every epoch."""

    def __init__(self, size: int, seed: int) -> None:
        self.size, self.seed, self.epoch = size, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[int]:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        yield from torch.randperm(self.size, generator=g).tolist()


class OneWindowPerText(EpochShuffle):
    """Every text once per epoch, in EpochShuffle's order, as one of its windows: the first, or
    one drawn per (seed, epoch) with `random`. Yields window indices of `data`."""

    def __init__(self, data: Encoded, seed: int, choice: str = "first") -> None:
        super().__init__(data.texts, seed)
        self.data, self.choice = data, choice

    def __iter__(self) -> Iterator[int]:
        texts = list(super().__iter__())
        if self.choice == "first":
            yield from (self.data.first[t] for t in texts)
            return
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch + 13)
        draws = torch.rand(self.data.texts, generator=g).tolist()
        for t in texts:
            yield self.data.first[t] + int(draws[t] * self.data.count[t])


class LengthBucketBatchSampler(BatchSampler):
    """Shuffled batches of similar-length texts: the sampler's order is cut into pools of
    POOL_BATCHES batches, each pool is sorted by length and cut into batches, and the batches are
    shuffled, so the model does not see all short texts first.

    Takes `sampler` like torch's BatchSampler, so Lightning can swap in a distributed sampler (DDP).
    """

    def __init__(
        self,
        sampler: Sampler[int],
        batch_size: int,
        drop_last: bool = False,
        lengths: Sequence[int] = (),
        seed: int = 0,
    ) -> None:
        super().__init__(sampler, batch_size, drop_last)
        self.lengths, self.seed = list(lengths), seed

    def __iter__(self) -> Iterator[list[int]]:
        # a generator: the order is drawn at the first batch, after Lightning's set_epoch (the
        # loader's iterator is created earlier, at the start of fit)
        order = list(self.sampler)
        pool = self.batch_size * POOL_BATCHES
        batches: list[list[int]] = []
        for start in range(0, len(order), pool):
            chunk = sorted(order[start : start + pool], key=self.lengths.__getitem__)
            batches += [
                chunk[i : i + self.batch_size] for i in range(0, len(chunk), self.batch_size)
            ]
        if self.drop_last:
            batches = [b for b in batches if len(b) == self.batch_size]
        epoch = getattr(self.sampler, "epoch", 0)  # EpochShuffle or Lightning's distributed wrapper
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch + 7)
        for i in torch.randperm(len(batches), generator=g).tolist():
            yield batches[i]


class PadCollator:
    """Pads a batch to its longest text (or to `pad_to`: the padding-to-max-length baseline)."""

    def __init__(self, pad_id: int, pad_to: int | None = None) -> None:
        self.pad_id, self.pad_to = pad_id, pad_to

    def __call__(self, items: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        width = self.pad_to or max(len(x["input_ids"]) for x in items)
        input_ids = torch.full((len(items), width), self.pad_id, dtype=torch.long)
        attention_mask = torch.zeros((len(items), width), dtype=torch.long)
        for row, item in enumerate(items):
            ids = item["input_ids"]
            input_ids[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
            attention_mask[row, : len(ids)] = 1
        labels = torch.tensor([x["label"] for x in items], dtype=torch.long)
        batch = {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}
        if "text" in items[0]:  # which text each window belongs to (validation averages by it)
            batch["text"] = torch.tensor([x["text"] for x in items], dtype=torch.long)
        return batch


class TextDataModule(L.LightningDataModule):
    """train/val splits of data/processed as batches for the Lightning Trainer."""

    def __init__(
        self,
        processed_dir: str | Path,
        tokenizer: Any,
        max_length: int,
        batch_size: int,
        bucket_by_length: bool = True,
        seed: int = 0,
        pad_to_max_length: bool = False,
        n_windows: int = 1,
        window: str = "first",
    ) -> None:
        super().__init__()
        self.processed_dir = Path(processed_dir)
        self.labels = read_labels(processed_dir)
        self.tokenizer, self.max_length, self.batch_size = (
            tokenizer,
            int(max_length),
            int(batch_size),
        )
        self.bucket_by_length, self.seed = bucket_by_length, int(seed)
        self.n_windows, self.window = int(n_windows), window
        self.collate = PadCollator(
            tokenizer.pad_token_id, max_length if pad_to_max_length else None
        )
        self.splits: dict[str, Encoded] = {}

    def encode(self, df: pd.DataFrame) -> Encoded:
        cut = windows.split(self.tokenizer, df["text"].tolist(), self.max_length, self.n_windows)
        index = {label: i for i, label in enumerate(self.labels)}
        labels = [index[str(x)] for x in df["label"]]
        return Encoded(cut.ids, [labels[t] for t in cut.owner], cut.owner.tolist())

    def setup(self, stage: str | None = None) -> None:
        if not self.splits:
            self.splits["train"] = self.encode(read_split(self.processed_dir, "train", self.labels))
            self.splits["val"] = self.encode(
                read_split(self.processed_dir, "val", self.labels)
            ).by_length()

    def train_dataloader(self) -> DataLoader:
        data = self.splits["train"]
        order = OneWindowPerText(data, self.seed, self.window)
        if self.bucket_by_length:
            batches = LengthBucketBatchSampler(
                order, self.batch_size, lengths=data.lengths, seed=self.seed
            )
        else:
            batches = BatchSampler(order, self.batch_size, drop_last=False)
        # its own generator: creating the iterator must not draw from the global RNG (which
        # drives dropout), or a resumed epoch would see other dropout masks than an uninterrupted one
        return DataLoader(
            data,
            batch_sampler=batches,
            collate_fn=self.collate,
            generator=torch.Generator().manual_seed(self.seed),
        )

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.splits["val"], batch_size=self.batch_size, collate_fn=self.collate)
