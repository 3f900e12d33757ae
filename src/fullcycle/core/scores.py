"""The test metrics of one set of predictions (torchmetrics): what evaluate writes and what optimize
compares its variants with, so both score predictions the same way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torchmetrics.functional.classification import (
    multiclass_accuracy,
    multiclass_confusion_matrix,
    multiclass_f1_score,
    multiclass_precision,
    multiclass_recall,
)


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
