"""How a trained model's windows are combined, judged on the project's own splits.

A model reads a text as up to `model.windows` windows and predicts the mean of their class
probabilities (fullcycle.core.windows). This scores other read-outs of the same weights, with no
retraining: the mean of the logits, and the first window (the title and the lede, the one
training reads) counted N times. Per model and read-out: accuracy on validation, test and the
production slice, and the test comparison with the TF-IDF baseline through the project's own
paired comparison (fullcycle.core.evidence.compare).

    python bench/readout.py models/classifier [path/to/another/model ...]

Given several models (e.g. the same recipe's seeds), it also scores them as one ensemble.

Run it in a checkout whose data/processed and reports/baseline are the model's (`dvc checkout`).
Each model costs one pass over the three splits (about 2 minutes on a quiet 2-core CPU).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from fullcycle.core import evidence, paths
from fullcycle.core.classifier import Classifier
from fullcycle.lifecycle.reproduced import cpu

SPLITS = ("val", "test", "production")
READOUTS = {  # name -> (combine logits or probabilities, weight of the first window)
    "mean of probabilities (the default)": ("probs", 1.0),
    "mean of logits": ("logits", 1.0),
    "first window x2": ("probs", 2.0),
    "first window x3": ("probs", 3.0),
    "first window only": ("probs", None),
}


def window_logits(model: Classifier, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Every window's logits and its text index, windows of a text first window first."""
    cut = model._windows(texts)
    out = np.zeros((len(cut.ids), len(model.labels)))
    with torch.inference_mode():
        for idx, enc in model._batches(cut, 32):
            out[idx] = model.model(**enc).logits.double().cpu().numpy()
    return out, cut.owner


def read_out(logits: np.ndarray, owner: np.ndarray, texts: int, how: str, first: float | None):
    position = np.zeros(len(owner), dtype=np.int64)
    for j in range(1, len(owner)):
        position[j] = position[j - 1] + 1 if owner[j] == owner[j - 1] else 0
    if how == "logits":
        values = logits
    else:
        values = np.exp(logits - logits.max(1, keepdims=True))
        values /= values.sum(1, keepdims=True)
    weight = np.where(position == 0, 1.0 if first is None else first, 0.0 if first is None else 1.0)
    total = np.zeros((texts, logits.shape[1]))
    np.add.at(total, owner, values * weight[:, None])
    return total / np.bincount(owner, weights=weight, minlength=texts).clip(min=1e-9)[:, None]


def row(name: str, scores: dict, labels: list[str], texts: dict, truth: dict, baseline) -> None:
    """One line: accuracy on each split, then the test comparison with the baseline."""
    accuracy, test = [], None
    for s in SPLITS:
        named = [labels[i] for i in scores[s].argmax(1)]
        accuracy.append(float(np.mean([a == b for a, b in zip(named, truth[s], strict=True)])))
        if s == "test":
            test = evidence.Predictions.of(labels, texts[s], truth[s], named)
    c = evidence.compare(baseline, test, what="the model and the baseline")
    d = c["accuracy"]
    print(
        f"{name:38s} {accuracy[0]:7.4f} {accuracy[1]:7.4f} {accuracy[2]:7.4f}  "
        f"{d.diff:+.4f} [{d.low:+.4f}, {d.high:+.4f}], {c.b_only} vs {c.a_only}, "
        f"p {c.p_value:.3f}: {d.verdict}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", type=Path)
    parser.add_argument("--processed", type=Path, default=Path("data/processed"))
    parser.add_argument("--baseline", type=Path, default=paths.BASELINE_PREDICTIONS)
    args = parser.parse_args(argv)
    print(f"CPU: {cpu() or 'unknown'}, {torch.get_num_threads()} threads")
    frames = {s: pd.read_parquet(args.processed / f"{s}.parquet") for s in SPLITS}
    texts = {s: frames[s]["text"].tolist() for s in SPLITS}
    truth = {s: frames[s]["label"].astype(str).tolist() for s in SPLITS}
    baseline = evidence.loads(args.baseline.read_text(), str(args.baseline))["test"]
    header = f"{'read-out':38s} {'val':>7s} {'test':>7s} {'prod':>7s}  test vs TF-IDF (paired)"
    defaults, labels = [], []
    for directory in args.models:
        model = Classifier(directory, device="cpu")
        labels = model.labels
        logits = {s: window_logits(model, texts[s]) for s in SPLITS}
        print(f"\n{directory} ({model.windows} windows of {model.max_length} tokens)\n{header}")
        for name, (how, first) in READOUTS.items():
            scores = {s: read_out(*logits[s], len(texts[s]), how, first) for s in SPLITS}
            row(name, scores, labels, texts, truth, baseline)
            if (how, first) == ("probs", 1.0):  # what the model predicts
                defaults.append(scores)
    if len(args.models) > 1:  # the models as one ensemble: the mean of their probabilities
        print(f"\nthe {len(args.models)} models as one ensemble (k times the cost)\n{header}")
        mean = {s: sum(d[s] for d in defaults) / len(defaults) for s in SPLITS}
        row("mean of the models' probabilities", mean, labels, texts, truth, baseline)
    return 0


if __name__ == "__main__":
    sys.exit(main())
