"""The `baseline` stage: TF-IDF + logistic regression, the bar every fine-tuned model must clear.

Trains on the train split, scores the test split, writes reports/baseline/metrics.json in the same
shape as the evaluate stage ({"test": {"accuracy", "accuracy_ci", "f1_macro", "f1_macro_ci",
"rows"}}) and reports/baseline/predictions.json (its label for every test text), so the model card
and the promotion gate compare the model with it on the same texts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import DictConfig
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import Pipeline

from fullcycle.core import evidence, params, paths
from fullcycle.core.errors import FullcycleError
from fullcycle.core.io import atomic_path

METRICS = paths.BASELINE_METRICS
PREDICTIONS = paths.BASELINE_PREDICTIONS


def read_split(processed_dir: str | Path, name: str) -> pd.DataFrame:
    """One split written by `prepare`, with a clear error when prepare has not run."""
    path = Path(processed_dir) / f"{name}.parquet"
    if not path.is_file():
        raise FullcycleError(f"{path} not found: run `fullcycle prepare` (or `dvc repro`) first.")
    return pd.read_parquet(path)


def build(cfg: DictConfig, seed: int) -> Pipeline:
    return Pipeline(
        [
            (
                "tfidf",
                TfidfVectorizer(
                    sublinear_tf=True,
                    ngram_range=(1, int(cfg.ngram_max)),
                    min_df=int(cfg.min_df),
                    max_features=int(cfg.max_features),
                ),
            ),
            ("clf", LogisticRegression(C=float(cfg.C), max_iter=2000, random_state=seed)),
        ]
    )


def run(cfg: DictConfig) -> dict[str, Any]:
    data = params.section(cfg, "data")
    train = read_split(data.processed_dir, "train")
    test = read_split(data.processed_dir, "test")
    model = build(params.section(cfg, "baseline"), int(params.section(cfg, "seed")))
    model.fit(train["text"], train["label"])
    predicted = [str(p) for p in model.predict(test["text"])]
    labels = json.loads((Path(data.processed_dir) / "labels.json").read_text(encoding="utf-8"))
    actual = test["label"].astype(str).tolist()
    pred = evidence.Predictions.of(labels, test["text"].tolist(), actual, predicted)
    ci = evidence.interval(pred)
    metrics = {
        "test": {
            "accuracy": round(float(accuracy_score(actual, predicted)), 4),
            "accuracy_ci": ci["accuracy_ci"],
            "f1_macro": round(float(f1_score(actual, predicted, average="macro")), 4),
            "f1_macro_ci": ci["f1_macro_ci"],
            "rows": len(test),
        }
    }
    with atomic_path(METRICS) as m, atomic_path(PREDICTIONS) as pr:
        m.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
        pr.write_text(evidence.dumps({"test": pred}), encoding="utf-8")
    return metrics


def cli_baseline() -> None:
    test = run(params.load())["test"]
    print(f"baseline: test accuracy {test['accuracy']:.4f}, macro-F1 {test['f1_macro']:.4f}")
