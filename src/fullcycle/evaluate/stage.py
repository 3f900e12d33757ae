"""`fullcycle evaluate`: score models/classifier/ on the test split.

Writes reports/eval/metrics.json ({"test": {"accuracy", "accuracy_ci", "f1_macro", "f1_macro_ci"}}
and the same for the "labelled" slice when there is one: only the numbers people compare, DVC
metrics, each with its seeded 95% bootstrap interval, so `dvc metrics show` and `dvc exp show` fit
a terminal; row counts and the model's size are in the card), reports/eval/predictions.json (the model's label for every
test text, in split order, with the split's hash: what paired comparisons read),
reports/eval/per_class.json (precision, recall, F1 and support per label; "n/a" (null) where a
class has no texts or no predictions), reports/eval/confusion.json (one {actual, predicted} row per
test text: DVC's confusion plot) and reports/model_card.md (with the paired comparison against the
baseline). All are written together or not at all.

Every byte is a function of the stage's inputs (model, test split, params, baseline metrics):
no timings, dates or commits, so `dvc repro -f` rewrites the same files. Speed is machine-dependent
and measured by `python bench/model_latency.py` instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import DictConfig

from fullcycle.core import evidence, params, paths, provenance
from fullcycle.core.classifier import DEFAULT_DIR, Classifier, split_predictions
from fullcycle.core.errors import FullcycleError
from fullcycle.core.io import atomic_path, read_json
from fullcycle.core.labelled import LABELLED_TEST
from fullcycle.core.scores import scores
from fullcycle.core.splits import read_split
from fullcycle.evaluate.card import render

METRICS = paths.EVAL_METRICS
PER_CLASS = paths.EVAL_PER_CLASS
CONFUSION = paths.EVAL_CONFUSION
PREDICTIONS = paths.EVAL_PREDICTIONS
CARD = paths.MODEL_CARD
BASELINE = paths.BASELINE_METRICS
BASELINE_PREDICTIONS = paths.BASELINE_PREDICTIONS
BATCH_SIZE = 32


def model_size(model: Classifier) -> dict[str, Any]:
    weights = [p for p in model.directory.iterdir() if p.suffix in (".safetensors", ".bin")]
    return {
        "size_mb": round(sum(p.stat().st_size for p in weights) / 1e6, 1),
        "parameters": sum(p.numel() for p in model.model.parameters()),
    }


def read_baseline() -> dict[str, Any] | None:
    """The baseline's metrics for the card; None when the baseline stage has not run."""
    if not BASELINE.is_file():
        return None
    try:
        return read_json(BASELINE)
    except ValueError as exc:
        raise FullcycleError(
            f"{BASELINE} is not valid JSON ({exc}): run `fullcycle baseline` (or `dvc repro`)."
        ) from None


def versus_baseline(model: evidence.Predictions) -> evidence.Comparison | None:
    """The model against the baseline on the same test texts (None before the baseline ran, or
    when it scored another split: the card then says so)."""
    if not BASELINE_PREDICTIONS.is_file():
        return None
    text = BASELINE_PREDICTIONS.read_text(encoding="utf-8")
    base = evidence.loads(text, str(BASELINE_PREDICTIONS)).get("test")
    if base is None or base.split != model.split or base.labels != model.labels:
        return None
    return evidence.compare(base, model, what="the model and the baseline")


def with_interval(test_scores: dict[str, Any], pred: evidence.Predictions) -> dict[str, Any]:
    """accuracy, accuracy_ci, f1_macro, f1_macro_ci, rows (and anything else, in that order)."""
    ci = evidence.interval(pred)
    out: dict[str, Any] = {}
    for key, value in test_scores.items():
        out[key] = value
        if key in evidence.METRICS:
            out[f"{key}_ci"] = ci[f"{key}_ci"]
    return out


def compared(metrics: dict[str, Any]) -> dict[str, Any]:
    """What the metrics file holds: each split's scores and intervals without its row count
    (the card states it; a DVC metric is a column in every `dvc metrics show`)."""
    return {split: {k: v for k, v in m.items() if k != "rows"} for split, m in metrics.items()}


def run(cfg: DictConfig, model_dir: str | Path = DEFAULT_DIR) -> dict[str, Any]:
    data = params.section(cfg, "data")
    model = Classifier(model_dir)
    test = read_split(data.processed_dir, "test", model.labels, labels_from=f"{model_dir}'s labels")
    actual = test["label"].astype(str).tolist()

    sets = {"test": split_predictions(model, test, BATCH_SIZE)}
    predicted = [model.labels[i] for i in sets["test"].predicted[0]]
    test_scores = scores(model.labels, actual, predicted)
    matrix = test_scores.pop("confusion_matrix")  # a table in the card, a plot in DVC
    per_class = test_scores.pop("per_class")  # a table in the card and its own file
    metrics = {"test": with_interval(test_scores, sets["test"])}
    # rows added by `label import`, held out apart so "test" stays comparable (fullcycle.core.labelled)
    labelled = Path(data.processed_dir) / LABELLED_TEST
    if labelled.is_file() and len(held := pd.read_parquet(labelled)):
        sets["labelled"] = split_predictions(model, held, BATCH_SIZE)
        slice_scores = scores(
            model.labels,
            held["label"].astype(str).tolist(),
            [model.labels[i] for i in sets["labelled"].predicted[0]],
        )
        slice_scores.pop("confusion_matrix")
        metrics["labelled"] = with_interval(slice_scores, sets["labelled"])
    raw = provenance.raw_data(data)
    vs_base = versus_baseline(sets["test"])
    card = render(
        model.meta, metrics, model_size(model), per_class, matrix, read_baseline(), raw, vs_base
    )
    metrics = compared(metrics)
    confusion = [{"actual": a, "predicted": p} for a, p in zip(actual, predicted, strict=True)]
    with (
        atomic_path(METRICS) as m,
        atomic_path(PREDICTIONS) as pr,
        atomic_path(PER_CLASS) as pc,
        atomic_path(CONFUSION) as c,
        atomic_path(CARD) as k,
    ):
        m.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
        pr.write_text(evidence.dumps(sets), encoding="utf-8")
        pc.write_text(json.dumps(per_class, indent=2) + "\n", encoding="utf-8")
        c.write_text(
            "[\n" + ",\n".join(json.dumps(r) for r in confusion) + "\n]\n", encoding="utf-8"
        )
        k.write_text(card, encoding="utf-8")
    return metrics


def cli_evaluate() -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # the "Loading weights" bar says nothing here
    test = run(params.load())["test"]
    low, high = test["accuracy_ci"]
    print(
        f"evaluate: test accuracy {test['accuracy']:.4f} (95% interval {low:.4f}-{high:.4f}), "
        f"macro-F1 {test['f1_macro']:.4f}; wrote {METRICS}, {CARD}"
    )
