"""The `baseline` stage: TF-IDF + logistic regression, the bar every fine-tuned model must clear.

Trains on the train split, scores the test split, writes reports/baseline/metrics.json in the same
shape as the evaluate stage: {"test": {"accuracy": ..., "f1_macro": ...}}.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import DictConfig
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import Pipeline

from fullcycle import params
from fullcycle.errors import FullcycleError
from fullcycle.io import write_json

METRICS = Path("reports/baseline/metrics.json")


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
    model = build(params.section(cfg, "baseline"), int(cfg.get("seed", 0)))
    model.fit(train["text"], train["label"])
    predicted = model.predict(test["text"])
    metrics = {
        "test": {
            "accuracy": round(float(accuracy_score(test["label"], predicted)), 4),
            "f1_macro": round(float(f1_score(test["label"], predicted, average="macro")), 4),
            "rows": len(test),
        }
    }
    write_json(METRICS, metrics)
    return metrics


def main() -> None:
    test = run(params.load())["test"]
    print(f"baseline: test accuracy {test['accuracy']:.4f}, macro-F1 {test['f1_macro']:.4f}")
