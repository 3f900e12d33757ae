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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from omegaconf import DictConfig
from torchmetrics.functional.classification import (
    multiclass_accuracy,
    multiclass_confusion_matrix,
    multiclass_f1_score,
    multiclass_precision,
    multiclass_recall,
)

from fullcycle import evidence, params, provenance
from fullcycle.classifier import DEFAULT_DIR, Classifier, split_predictions
from fullcycle.errors import FullcycleError
from fullcycle.evaluate.card import render
from fullcycle.io import atomic_path, read_json
from fullcycle.label.merge import LABELLED_TEST
from fullcycle.train.splits import read_split

METRICS = Path("reports/eval/metrics.json")
PER_CLASS = Path("reports/eval/per_class.json")
CONFUSION = Path("reports/eval/confusion.json")
PREDICTIONS = Path("reports/eval/predictions.json")
CARD = Path("reports/model_card.md")
BASELINE = Path("reports/baseline/metrics.json")
BASELINE_PREDICTIONS = Path("reports/baseline/predictions.json")
BATCH_SIZE = 32


def scores(
    labels: Sequence[str], actual: Sequence[str], predicted: Sequence[str]
) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class precision/recall/F1/support and the confusion matrix."""
    index = {label: i for i, label in enumerate(labels)}
    target = torch.tensor([index[x] for x in actual])
    preds = torch.tensor([index[x] for x in predicted])
    k = {"num_classes": len(labels)}
    per_class = {
        "precision": multiclass_precision(preds, target, average=None, **k).tolist(),
        "recall": multiclass_recall(preds, target, average=None, **k).tolist(),
        "f1": multiclass_f1_score(preds, target, average=None, **k).tolist(),
    }
    support = torch.bincount(target, minlength=len(labels)).tolist()
    guessed = torch.bincount(preds, minlength=len(labels)).tolist()
    # no texts of a class: its recall is undefined; never predicted: its precision is (not 0.0)
    defined = {
        "precision": [g > 0 for g in guessed],
        "recall": [n > 0 for n in support],
        "f1": [n + g > 0 for n, g in zip(support, guessed, strict=True)],
    }
    return {
        "accuracy": round(float(multiclass_accuracy(preds, target, average="micro", **k)), 4),
        "f1_macro": round(float(multiclass_f1_score(preds, target, average="macro", **k)), 4),
        "rows": len(actual),
        "per_class": {
            label: {
                name: round(values[i], 4) if defined[name][i] else None
                for name, values in per_class.items()
            }
            | {"support": support[i]}
            for i, label in enumerate(labels)
        },
        "confusion_matrix": multiclass_confusion_matrix(preds, target, **k).tolist(),
    }


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
    # rows added by `label import`, held out apart so "test" stays comparable (fullcycle.label.merge)
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


def main() -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # the "Loading weights" bar says nothing here
    test = run(params.load())["test"]
    low, high = test["accuracy_ci"]
    print(
        f"evaluate: test accuracy {test['accuracy']:.4f} (95% interval {low:.4f}-{high:.4f}), "
        f"macro-F1 {test['f1_macro']:.4f}; wrote {METRICS}, {CARD}"
    )
