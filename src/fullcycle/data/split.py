"""A deterministic, stratified split into train / val / test / production.

Rows are ordered within each class by a seeded hash of their text, then cut at the configured
fractions. The split therefore depends only on the texts, the labels and the seed: not on row order,
not on the machine, and adding rows to a class moves few existing rows between splits. Capping a
class (`data.max_per_class`) keeps the rows first in that same order, so it is order-free too.
"""

from __future__ import annotations

import hashlib
import math

import pandas as pd

from fullcycle.core.errors import FullcycleError
from fullcycle.core.splits import MIN_ROWS_PER_CLASS, SPLITS

def _counts(n: int, fractions: dict[str, float]) -> dict[str, int]:
    """Rows per split for a class of n rows: largest-remainder rounding, at least one per split."""
    exact = {name: n * frac for name, frac in fractions.items()}
    counts = {name: max(1, math.floor(x)) for name, x in exact.items()}
    # hand out (or take back) rows by remainder until the sizes add up to n; train absorbs the rest
    by_remainder = sorted(exact, key=lambda k: exact[k] - math.floor(exact[k]), reverse=True)
    for name in by_remainder:
        if sum(counts.values()) >= n:
            break
        if name != "train":
            counts[name] += 1
    counts["train"] = n - sum(v for k, v in counts.items() if k != "train")
    return counts


def split_fractions(cfg_split: dict[str, float]) -> dict[str, float]:
    """Validate the configured val/test/production fractions; train gets the rest."""
    fracs = {name: float(cfg_split.get(name, 0.0)) for name in SPLITS[1:]}
    for name, frac in fracs.items():
        if not 0.0 < frac < 1.0:
            raise FullcycleError(
                f"data.split.{name} = {frac} in params.yaml: each split fraction must be between 0 and 1 "
                "(exclusive). Fix conf/data/*.yaml or override it, e.g. -S data.split.val=0.1."
            )
    train = 1.0 - sum(fracs.values())
    if train < 0.1:
        raise FullcycleError(
            f"data.split leaves {train:.2f} of the rows for training: val+test+production must "
            "add up to at most 0.9."
        )
    return {"train": train, **fracs}



def hash_order(df: pd.DataFrame, seed: int) -> pd.DataFrame:
    """`df` with a `_key` column (a seeded hash of each text), sorted by label then key: an order
    that depends on the texts and the seed only, never on where a row sat in the input."""
    keys = df["text"].map(lambda t: hashlib.sha1(f"{seed}\x00{t}".encode()).hexdigest())
    return df.assign(_key=keys).sort_values(["label", "_key"], kind="stable")


def cap_per_class(df: pd.DataFrame, max_per_class: int | None, seed: int) -> pd.DataFrame:
    """At most `max_per_class` rows of each class (for quick runs): the first ones in hash order,
    so the same texts are kept whatever order the input file lists them in."""
    if not max_per_class:
        return df
    capped = hash_order(df, seed).groupby("label", sort=False).head(int(max_per_class))
    return capped.drop(columns="_key").reset_index(drop=True)


def stratified_split(
    df: pd.DataFrame, fractions: dict[str, float], seed: int
) -> dict[str, pd.DataFrame]:
    """Split `df` (columns text, label) into the four named splits, stratified by label."""
    ordered = hash_order(df, seed)
    parts: dict[str, list[pd.DataFrame]] = {name: [] for name in SPLITS}
    for label, group in ordered.groupby("label", sort=True):
        if len(group) < MIN_ROWS_PER_CLASS:
            raise FullcycleError(
                f"class '{label}' has {len(group)} rows after removing duplicates: a stratified split "
                f"needs at least {MIN_ROWS_PER_CLASS}. Add rows for it or drop the class."
            )
        start = 0
        for name, count in _counts(len(group), fractions).items():
            parts[name].append(group.iloc[start : start + count])
            start += count
    # within a split, classes interleave in hash order (deterministic, not grouped by label)
    return {
        name: pd.concat(frames).sort_values("_key").drop(columns="_key").reset_index(drop=True)
        for name, frames in parts.items()
    }
