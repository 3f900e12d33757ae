"""`fullcycle label export [--n N] [--out FILE]`: the versioned traffic texts worth a person's time.

From every batch in data/production/ (what `traffic snapshot` wrote; `dvc pull` them first), after
dropping repeats and every text the training data already has, the `label.export.shares` of N are:
- uncertain: the least confident predictions (the served score),
- drift: the texts most unlike the training texts — a TF-IDF domain classifier's out-of-fold
  probability that a text is traffic, not training data (the same idea as the monitor's text check),
  among a seeded sample of `label.export.max_fit_rows` texts,
- random: a seeded random control sample, so the labelled slice also measures ordinary traffic.
Writes FILE (Label Studio import JSON: `data.text`, the model's prediction as a pre-annotation), the
labelling config beside it (.xml) and a plain CSV (.csv) with an empty `label` column to fill in.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from fullcycle.core import params
from fullcycle.core.clean import clean_texts
from fullcycle.core.errors import FullcycleError
from fullcycle.core.io import atomic_path, write_text
from fullcycle.label import studio
from fullcycle.label.importer import existing_rows, project_labels
from fullcycle.monitor.batches import traffic_batches

REASONS = ("uncertain", "drift", "random")


def traffic(monitor: DictConfig) -> pd.DataFrame:
    """Every versioned batch, one row per distinct (cleaned) text: text, predicted, score, model."""
    batches = traffic_batches(monitor)
    if not batches:
        raise FullcycleError(
            f"no versioned traffic in {monitor.production_dir}/: run `fullcycle traffic snapshot` "
            "where the service captures (or `dvc pull` the batches) first."
        )
    frame = pd.concat(
        [pd.read_parquet(p, columns=["text", "predicted", "score", "model"]) for p in batches],
        ignore_index=True,
    )
    frame["text"] = clean_texts(frame["text"].astype(str))
    frame = frame[frame["text"] != ""]
    return frame.drop_duplicates(subset="text", keep="last").reset_index(drop=True)


def drift_scores(
    candidates: pd.Series, training: pd.Series, max_rows: int, seed: int
) -> np.ndarray:
    """Out-of-fold probability that a candidate text is traffic rather than training text, for a
    seeded sample of at most `max_rows` candidates (NaN for the rest: 100k texts would cost
    minutes of TF-IDF for the same top few hundred)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    scores = np.full(len(candidates), np.nan)
    rng = np.random.default_rng(seed)
    pool = np.sort(rng.choice(len(candidates), min(len(candidates), max_rows), replace=False))
    if min(len(training), len(pool)) < 3:  # too few to cross-validate: nothing stands out
        scores[pool] = 0.5
        return scores
    texts = pd.concat([training, candidates.iloc[pool]], ignore_index=True)
    y = np.r_[np.zeros(len(training)), np.ones(len(pool))]
    x = TfidfVectorizer(max_features=50000, sublinear_tf=True, min_df=2).fit_transform(texts)
    model = LogisticRegression(solver="liblinear", class_weight="balanced")
    oof = cross_val_predict(model, x, y, cv=3, method="predict_proba")[:, 1]
    scores[pool] = oof[len(training) :]
    return scores


def choose(frame: pd.DataFrame, n: int, shares: dict[str, float], seed: int) -> pd.DataFrame:
    """n rows: each reason's share in turn (uncertain, drift, random), never the same row twice."""
    total = sum(shares.get(r, 0.0) for r in REASONS)
    if total <= 0:
        raise FullcycleError("label.export.shares must give at least one reason a positive share.")
    quota = {r: round(n * shares.get(r, 0.0) / total) for r in REASONS}
    quota["random"] += n - sum(quota.values())
    order = {
        "uncertain": frame["score"].to_numpy().argsort(kind="stable"),
        "drift": np.nan_to_num(-frame["drift"].to_numpy(), nan=np.inf).argsort(kind="stable"),
        "random": np.random.default_rng(seed).permutation(len(frame)),
    }
    taken: dict[int, str] = {}
    for reason in REASONS:
        picked = [i for i in order[reason] if i not in taken][: max(quota[reason], 0)]
        taken.update({int(i): reason for i in picked})
    rows = frame.iloc[list(taken)].copy()
    rows["reason"] = list(taken.values())
    return rows.reset_index(drop=True)


def cli_label_export(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    cfg = params.load()
    data, monitor = params.section(cfg, "data"), params.section(cfg, "monitor")
    settings = params.section(cfg, "label").export
    n = int(args.n or settings.n)
    if n < 1:
        raise FullcycleError(f"--n must be at least 1, not {n}.")
    out = Path(args.out or settings.out)
    if out.suffix.lower() != ".json":
        raise FullcycleError(f"--out {out}: the Label Studio import file must end in .json.")
    frame = traffic(monitor)
    seen = training_texts(data)
    fresh = frame[~frame["text"].isin(seen)].reset_index(drop=True)
    dropped = len(frame) - len(fresh)
    if fresh.empty:
        raise FullcycleError(
            f"all {len(frame)} distinct traffic texts are already in the training data: nothing to label."
        )
    seed = int(params.section(cfg, "seed"))
    reference = pd.Series(sorted(seen)) if seen else pd.Series([], dtype=str)
    fresh["drift"] = drift_scores(fresh["text"], reference, int(settings.max_fit_rows), seed)
    chosen = choose(fresh, min(n, len(fresh)), dict(settings.shares), seed)
    labels = project_labels(data)
    tasks = [
        studio.task(
            row.text,
            row.predicted,
            row.score,
            row.model,
            {
                "reason": row.reason,
                "drift_score": None if np.isnan(row.drift) else round(float(row.drift), 4),
            },
        )
        for row in chosen.itertuples()
    ]
    xml, csv = out.with_suffix(".xml"), out.with_suffix(".csv")
    with atomic_path(out) as tmp:
        tmp.write_text(json.dumps(tasks, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    write_text(xml, studio.labelling_config(labels))
    table = chosen.assign(label="")[["text", "label", "predicted", "score", "reason", "drift"]]
    with atomic_path(csv) as tmp:
        table.round({"score": 6, "drift": 4}).to_csv(tmp, index=False)
    counts = chosen["reason"].value_counts()
    print(
        f"label export: {len(chosen)} texts from {len(frame)} distinct traffic texts "
        f"({dropped} already in the training data): "
        + ", ".join(f"{r} {int(counts.get(r, 0))}" for r in REASONS)
        + f"\nwrote {out} (Label Studio tasks), {xml} (labelling config), {csv} "
        f"({time.perf_counter() - started:.1f}s)"
    )
    return 0


def training_texts(data: DictConfig) -> set[str]:
    """Every text the project's labelled data has (cleaned as prepare cleans)."""
    return set(existing_rows(data)["text"])
