"""The `prepare` stage: source -> clean, validated, deduplicated -> train/val/test/production splits.

Reads the `data` section of params.yaml (`data.split.seed` seeds the split); writes data/processed/*.parquet, labels.json and
reports/data/summary.json. Nothing is written unless every check passes, and the outputs replace the
previous ones in one move each, so a failed run leaves the last good outputs as they were.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from fullcycle.core import paths
from fullcycle.core import params
from fullcycle.core.sources import read_bbc_news, read_table
from fullcycle.data.split import SPLITS, cap_per_class, split_fractions, stratified_split
from fullcycle.core.validate import load_and_validate
from fullcycle.core.errors import FullcycleError
from fullcycle.core.io import atomic_path
from fullcycle.core.labelled import LABELLED_TEST, add_labelled

log = logging.getLogger(__name__)

SUMMARY = paths.DATA_SUMMARY


def summarize(
    splits: dict[str, pd.DataFrame], validation: Validation, source: str
) -> dict[str, Any]:
    everything = pd.concat(splits.values())
    chars = everything["text"].str.len()
    words = everything["text"].str.split().str.len()

    def stats(s: pd.Series) -> dict[str, float]:
        return {
            "min": int(s.min()),
            "median": float(s.median()),
            "mean": round(float(s.mean()), 1),
            "p95": float(s.quantile(0.95)),
            "max": int(s.max()),
        }

    return {
        "source": source,
        "rows_read": validation.rows,
        "duplicates_dropped": validation.duplicates,
        "conflicts": validation.conflicts.to_dict(),  # texts with several labels (data.on_conflict)
        "rows": {name: len(df) for name, df in splits.items()} | {"total": len(everything)},
        "classes": {
            name: {k: int(v) for k, v in df["label"].value_counts().sort_index().items()}
            for name, df in splits.items()
        },
        "text_chars": stats(chars),
        "text_words": stats(words),
    }


def run(cfg: DictConfig) -> dict[str, Any]:
    data = params.section(cfg, "data")
    # the split has its own seed, so a seed sweep (`-S seed=N`) retrains on the same texts
    seed = int(data.split.seed)
    fractions = split_fractions(OmegaConf.to_container(data.split))  # type: ignore[arg-type]
    validation = load_and_validate(data)
    clean = validation.raise_if_invalid(
        int(data.max_errors), hint="Fix the rows above, then run `fullcycle prepare` again."
    )
    base = clean
    clean = cap_per_class(clean, data.max_per_class, seed)
    splits = stratified_split(clean, fractions, seed)
    # labelled batches from `label import`: added without moving any base row (see label.merge)
    splits, labelled_test = add_labelled(splits, base, data, fractions, seed)
    labels = sorted(set().union(*(set(df["label"]) for df in [*splits.values(), labelled_test])))
    summary = summarize(splits, validation, validation.source)
    summary["rows"]["test_labelled"] = len(labelled_test)

    out_dir = Path(data.processed_dir)
    with atomic_path(out_dir) as tmp_dir, atomic_path(SUMMARY) as tmp_summary:
        tmp_dir.mkdir()
        for name in SPLITS:
            splits[name].to_parquet(tmp_dir / f"{name}.parquet", index=False)
        if len(labelled_test):  # only with labelled data: without it, data/processed is as before
            labelled_test.to_parquet(tmp_dir / LABELLED_TEST, index=False)
        (tmp_dir / "labels.json").write_text(json.dumps(labels, indent=2) + "\n", encoding="utf-8")
        tmp_summary.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    log.info("prepared %s rows: %s", summary["rows"]["total"], summary["rows"])
    return summary


def cli_prepare() -> None:
    summary = run(params.load())
    rows = summary["rows"]
    print(
        f"prepare: {rows['total']} rows ({summary['duplicates_dropped']} duplicates dropped) -> "
        + ", ".join(f"{k} {rows[k]}" for k in SPLITS)
    )
