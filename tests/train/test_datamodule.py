"""Batching: every text once per epoch, similar lengths together, padding only to the batch's
longest text, and an order that depends only on (seed, epoch) so resumed runs repeat it."""

import json
from pathlib import Path

import pandas as pd
import pytest
from torch.utils.data import DataLoader

from fullcycle.core.classifier import load_tokenizer
from fullcycle.core.datamodule import (
    EpochShuffle,
    LengthBucketBatchSampler,
    OneWindowPerText,
    PadCollator,
    TextDataModule,
)
from fullcycle.core.errors import FullcycleError
from fullcycle.core.splits import read_labels, read_split

LENGTHS = [(i * 37) % 101 + 1 for i in range(300)]  # varied lengths 1..101


def batches(epoch: int, seed: int = 0, batch_size: int = 8) -> list[list[int]]:
    order = EpochShuffle(len(LENGTHS), seed)
    order.set_epoch(epoch)
    return list(LengthBucketBatchSampler(order, batch_size, lengths=LENGTHS, seed=seed))


def test_every_text_once_per_epoch():
    got = sorted(i for batch in batches(0) for i in batch)
    assert got == list(range(len(LENGTHS)))
    assert all(len(b) <= 8 for b in batches(0))


def test_order_depends_only_on_seed_and_epoch():
    assert batches(3) == batches(3)
    assert batches(3) != batches(4)
    assert batches(3, seed=1) != batches(3, seed=2)


def test_buckets_pad_much_less_than_random_batches():
    def padding(bs: list[list[int]]) -> int:
        return sum(max(LENGTHS[i] for i in b) * len(b) - sum(LENGTHS[i] for i in b) for b in bs)

    order = EpochShuffle(len(LENGTHS), 0)
    random_batches = [list(order)[i : i + 8] for i in range(0, len(LENGTHS), 8)]
    assert padding(batches(0)) < padding(random_batches) / 5


def test_collator_pads_to_the_longest_text_or_to_a_fixed_width():
    items = [{"input_ids": [5, 6, 7], "label": 1}, {"input_ids": [8], "label": 0}]
    batch = PadCollator(pad_id=0)(items)
    assert batch["input_ids"].tolist() == [[5, 6, 7], [8, 0, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch["labels"].tolist() == [1, 0]
    assert PadCollator(pad_id=0, pad_to=6)(items)["input_ids"].shape == (2, 6)


@pytest.fixture
def processed(tmp_path):
    texts = [f"text number {i} " + "word " * (i % 17) for i in range(40)]
    labels = ["a", "b"] * 20
    for name in ("train", "val"):
        pd.DataFrame({"text": texts, "label": labels}).to_parquet(tmp_path / f"{name}.parquet")
    (tmp_path / "labels.json").write_text(json.dumps(["a", "b"]))
    return tmp_path


def test_datamodule_batches(processed):
    data = TextDataModule(processed, load_tokenizer("tiny"), max_length=12, batch_size=8, seed=1)
    data.setup()
    train = list(data.train_dataloader())
    assert sum(len(b["labels"]) for b in train) == 40
    assert all(b["input_ids"].shape[1] <= 12 for b in train)
    val = list(data.val_dataloader())
    widths = [b["input_ids"].shape[1] for b in val]
    assert widths == sorted(widths)  # validation runs shortest first: least padding
    assert isinstance(data.train_dataloader(), DataLoader)


def test_padding_to_max_length_for_the_benchmark(processed):
    data = TextDataModule(processed, load_tokenizer("tiny"), 32, 8, pad_to_max_length=True)
    data.setup()
    assert {b["input_ids"].shape[1] for b in data.train_dataloader()} == {32}


def test_missing_processed_data_says_run_prepare(tmp_path):
    with pytest.raises(FullcycleError, match=r"labels.json not found: run `fullcycle prepare`"):
        read_labels(tmp_path)
    with pytest.raises(FullcycleError, match=r"train.parquet not found"):
        read_split(tmp_path, "train", ["a", "b"])


def test_bad_splits_name_file_row_and_column(processed):
    pd.DataFrame({"text": ["x", "y", "z"], "label": ["a", "b", "c"]}).to_parquet(
        processed / "val.parquet"
    )
    with pytest.raises(FullcycleError, match=r"val.parquet, row 3, column 'label': .*\['c'\]"):
        read_split(processed, "val", ["a", "b"])
    pd.DataFrame({"text": ["x"]}).to_parquet(processed / "val.parquet")
    with pytest.raises(FullcycleError, match=r"lacks column\(s\) \['label'\]"):
        read_split(processed, "val", ["a", "b"])
    (processed / "val.parquet").write_text("not parquet")
    with pytest.raises(FullcycleError, match="not a readable Parquet file"):
        read_split(processed, "val", ["a", "b"])
    (processed / "labels.json").write_text("[")
    with pytest.raises(FullcycleError, match="labels.json is not valid JSON"):
        read_labels(processed)


def windowed(n_windows: int, window: str = "first", seed: int = 0, texts: int = 12):
    """A datamodule over texts of 1 to 4 windows of 16 tokens."""
    tokenizer = load_tokenizer("tiny")
    rows = [" ".join(f"w{i}x{j}" for j in range(1 + 9 * (i % 4))) for i in range(texts)]
    data = TextDataModule(
        Path("."), tokenizer, 16, 4, seed=seed, n_windows=n_windows, window=window
    )
    return data, data.encode(pd.DataFrame({"text": rows, "label": ["a", "b"] * (texts // 2)}))


@pytest.fixture
def in_labels(tmp_path, monkeypatch):
    (tmp_path / "labels.json").write_text(json.dumps(["a", "b"]))
    monkeypatch.chdir(tmp_path)


def drawn(encoded, window: str, epoch: int, seed: int = 0) -> list[int]:
    sampler = OneWindowPerText(encoded, seed, window)
    sampler.set_epoch(epoch)
    return list(sampler)


def test_one_window_of_every_text_per_epoch_first_or_drawn(in_labels):
    _, encoded = windowed(4)
    counts = [encoded.count[t] for t in range(encoded.texts)]
    assert max(counts) > 1 and min(counts) == 1  # long and short texts
    first = drawn(encoded, "first", 0)
    assert sorted(first) == sorted(encoded.first)  # every text once, as its first window
    for epoch in range(3):
        picked = drawn(encoded, "random", epoch)
        assert sorted(encoded.owner[j] for j in picked) == list(range(encoded.texts))
        assert picked == drawn(encoded, "random", epoch)  # depends on (seed, epoch) only
    seen = {j for epoch in range(20) for j in drawn(encoded, "random", epoch)}
    assert seen == set(range(len(encoded)))  # over epochs, every window gets its turn
    assert drawn(encoded, "random", 0, seed=1) != drawn(encoded, "random", 0, seed=2)


def test_one_window_per_text_is_the_old_order_when_texts_have_one_window(in_labels):
    _, encoded = windowed(1)
    assert len(encoded) == encoded.texts
    shuffle = EpochShuffle(encoded.texts, 5)
    shuffle.set_epoch(2)
    assert drawn(encoded, "random", 2, seed=5) == list(shuffle)


def test_validation_batches_carry_every_window_and_its_text(processed):
    long = [" ".join(["word"] * (5 + 20 * (i % 3))) for i in range(8)]
    pd.DataFrame({"text": long, "label": ["a", "b"] * 4}).to_parquet(processed / "val.parquet")
    data = TextDataModule(processed, load_tokenizer("tiny"), 12, 4, n_windows=3, window="random")
    data.setup()
    train = list(data.train_dataloader())
    assert sum(len(b["labels"]) for b in train) == 40  # one window of each training text
    val = list(data.val_dataloader())
    owners = [t for b in val for t in b["text"].tolist()]
    assert sorted(set(owners)) == list(range(8)) and len(owners) == 1 + 3 + 3 + 1 + 3 + 3 + 1 + 3
