"""Reading the processed splits that `prepare` wrote (shared by train and evaluate; light imports).

Each read checks the file against labels.json, so a stale or hand-edited file fails with a message
naming the file, row and column instead of a shape error deep inside training.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from fullcycle.core.errors import FullcycleError

SPLITS = ("train", "val", "test", "production")
# The fewest rows a class can have: one in each split and a second one in train.
MIN_ROWS_PER_CLASS = len(SPLITS) + 1


def read_labels(processed_dir: str | Path) -> list[str]:
    path = Path(processed_dir) / "labels.json"
    if not path.is_file():
        raise FullcycleError(f"{path} not found: run `fullcycle prepare` (or `dvc repro`) first.")
    try:
        labels = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise FullcycleError(
            f"{path} is not valid JSON ({exc}): run `fullcycle prepare` again."
        ) from None
    if (
        not isinstance(labels, list)
        or len(labels) < 2
        or not all(isinstance(x, str) for x in labels)
    ):
        raise FullcycleError(f"{path} must be a list of at least two label names.")
    return labels


def read_split(
    processed_dir: str | Path, name: str, labels: Sequence[str], labels_from: str = "labels.json"
) -> pd.DataFrame:
    """One split, checked against the label list so a stale or hand-edited file fails clearly."""
    path = Path(processed_dir) / f"{name}.parquet"
    if not path.is_file():
        raise FullcycleError(f"{path} not found: run `fullcycle prepare` (or `dvc repro`) first.")
    try:
        df = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise FullcycleError(
            f"{path} is not a readable Parquet file ({exc}): run `fullcycle prepare` again."
        ) from None
    missing = {"text", "label"} - set(df.columns)
    if missing:
        raise FullcycleError(
            f"{path} lacks column(s) {sorted(missing)}: run `fullcycle prepare` again."
        )
    if df.empty:
        raise FullcycleError(
            f"{path} has no rows: check the data split fractions and rerun prepare."
        )
    known = df["label"].astype(str).isin(labels).tolist()
    if not all(known):
        unknown = sorted(set(df["label"].astype(str)) - set(labels))
        row = known.index(False) + 1  # 1-based data row, as in every fullcycle error
        raise FullcycleError(
            f"{path}, row {row}, column 'label': label(s) {unknown} are not in {labels_from} "
            f"{list(labels)}. Data and model disagree: run `dvc repro` to bring them in line."
        )
    return df
