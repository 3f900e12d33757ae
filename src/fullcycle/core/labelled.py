"""Labelled batches (data/raw/labelled/*.csv, written by `label import`) joined to the data by
`prepare`, so that the split of the older data never moves.

The base data is split exactly as before (a stratified cut of each class in hash order). That cut
moves when rows are added to a class, so labelled rows are *not* added to it: each labelled row goes
to train / val / test by where its own seeded hash falls in [0, 1) — a function of the text and the
seed alone. A row's split therefore never changes when more labels arrive, and a held-out test row
of any earlier version never moves into train. Labelled test rows are scored apart
(`test_labelled.parquet`), so the old test split's metrics stay comparable across versions.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig

from fullcycle.core.errors import FullcycleError
from fullcycle.core.sources import read_table
from fullcycle.core.validate import validate

LABELLED_GLOB = "*.csv"
LABELLED_TEST = "test_labelled.parquet"  # in data.processed_dir: the labelled rows held out
SPLITS = ("train", "val", "test")


def labelled_files(data: DictConfig) -> list[Path]:
    folder = data.get("labelled_dir")
    return sorted(Path(folder).glob(LABELLED_GLOB)) if folder else []


def read_labelled_dir(data: DictConfig) -> pd.DataFrame:
    """Every labelled batch, cleaned and checked: columns text, label, source (file, row)."""
    frames = []
    for path in labelled_files(data):
        table = read_table(path, "text", "label")
        result = validate(table, str(path), min_rows_per_class=1)
        clean = result.raise_if_invalid(
            int(data.get("max_errors", 20)), hint=f"{path} was written by `label import`: fix it."
        )
        frames.append(clean.assign(source=str(path)))
    if not frames:
        return pd.DataFrame({"text": [], "label": [], "source": []}, dtype=object)
    return pd.concat(frames, ignore_index=True)


def bucket(texts: pd.Series, seed: int) -> pd.Series:
    """Each text's seeded hash as a number in [0, 1)."""
    return texts.map(
        lambda t: int(hashlib.sha1(f"{seed}\x00{t}".encode()).hexdigest()[:12], 16) / 16**12
    )


def assign(rows: pd.DataFrame, fractions: dict[str, float], seed: int) -> pd.Series:
    """train / val / test per row, by its own hash; production's share goes to the other three in
    proportion (labelled texts came from production already)."""
    kept = {name: fractions[name] for name in SPLITS}
    total = sum(kept.values())
    cuts, edge = [], 0.0
    for name in SPLITS:
        edge += kept[name] / total
        cuts.append((edge, name))
    return bucket(rows["text"], seed).map(
        lambda u: next(n for e, n in cuts if u < e or n == "test")
    )


def add_labelled(
    splits: dict[str, pd.DataFrame],
    base: pd.DataFrame,
    data: DictConfig,
    fractions: dict[str, float],
    seed: int,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The splits with the labelled rows added to train and val, and the labelled test rows."""
    rows = read_labelled_dir(data)
    rows = rows.drop_duplicates(subset=["text", "label"], keep="first")
    clash = rows[rows.duplicated(subset="text", keep=False)]
    known = dict(zip(base["text"], base["label"], strict=True))
    in_base = rows["text"].isin(known.keys())
    conflicts = rows[in_base & (rows["label"] != rows["text"].map(known))]
    if len(clash) or len(conflicts):
        first = clash if len(clash) else conflicts
        raise FullcycleError(
            f"labelled data disagrees with itself or with the base data on {len(clash) + len(conflicts)} "
            f"text(s), e.g. '{first['text'].iloc[0][:60]}' labelled '{first['label'].iloc[0]}' in "
            f"{first['source'].iloc[0]}. Remove one of the two rows."
        )
    rows = rows[~rows["text"].isin(known)]
    if rows.empty:
        return splits, pd.DataFrame({"text": [], "label": []}, dtype=object)
    where = assign(rows, fractions, seed)
    out = dict(splits)
    for name in ("train", "val"):
        out[name] = pd.concat(
            [splits[name], rows.loc[where == name, ["text", "label"]]], ignore_index=True
        )
    return out, rows.loc[where == "test", ["text", "label"]].reset_index(drop=True)
