"""The evidence behind a number: how sure a test metric is, and whether two models really differ.

On a few hundred test texts one article moves accuracy by a third of a point, so no number here
travels without its interval, and two models are compared on the *same* texts:
- `interval`: a seeded percentile bootstrap over the texts for accuracy and macro-F1;
- `compare`: the paired bootstrap of the difference (both models resampled on the same draw of
  texts) and McNemar's exact test on the texts exactly one of them gets right (scipy's binomtest),
  with a verdict in words: "better beyond noise", "not distinguishable", "worse beyond noise".
  Beyond noise means the interval excludes zero *and*, for two single models, McNemar's exact
  test agrees (p < 1 - confidence): with few discordant texts a percentile interval is a little
  too narrow (2 vs 9 of 532 texts: the interval excludes zero, the exact test gives p = 0.065).

Evaluate, baseline, `fullcycle exp diff` / `exp best`, the promotion gate, the model card and
`fullcycle tune` all use these functions; none computes an interval of its own.

The bootstrap draws *how often each kind of text is drawn*, not the texts: texts with the same
(true label, predictions) are interchangeable for every metric here, so a resample of n texts is
a multinomial draw over those patterns. That is the ordinary bootstrap, exactly, at a cost that
does not grow with n (a 100k-row split costs what a 300-row one does, plus one np.unique).
Seeded, so the same predictions always give the same interval (stage outputs stay byte-stable).
"""

from __future__ import annotations

import hashlib
import json
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fullcycle.core.errors import FullcycleError

CONFIDENCE = 0.95
RESAMPLES = 4000
SEED = 20240  # the bootstrap's own seed: not the project's, so a seed sweep keeps one yardstick
METRICS = ("accuracy", "f1_macro")
BETTER, SAME, WORSE = "better beyond noise", "not distinguishable", "worse beyond noise"
_ALPHABET = string.digits + string.ascii_lowercase + string.ascii_uppercase  # a label per char


def split_hash(texts: Sequence[str], labels: Sequence[str]) -> str:
    """md5 of a split's texts and labels, in order: two prediction sets pair only if equal."""
    digest = hashlib.md5(usedforsecurity=False)
    for text, label in zip(texts, labels, strict=True):
        digest.update(f"{label}\x1f{text}\x1e".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class Predictions:
    """What a model predicted for every text of one split, in split order.

    `predicted` has one row per seed (a single model: one row); `actual` the true labels."""

    labels: tuple[str, ...]
    split: str
    actual: np.ndarray  # (n,) label indices
    predicted: np.ndarray  # (seeds, n) label indices

    @classmethod
    def of(
        cls,
        labels: Sequence[str],
        texts: Sequence[str],
        actual: Sequence[str],
        predicted: Sequence[str],
    ) -> Predictions:
        index = {label: i for i, label in enumerate(labels)}
        return cls(
            tuple(labels),
            split_hash(texts, actual),
            np.array([index[a] for a in actual], dtype=np.int64),
            np.array([[index[p] for p in predicted]], dtype=np.int64),
        )

    @property
    def rows(self) -> int:
        return len(self.actual)

    def to_json(self) -> dict[str, Any]:
        """Compact: one character per text (up to 62 labels), so 100k rows are ~200 kB."""
        return {
            "split": self.split,
            "rows": self.rows,
            "actual": _encode(self.actual, len(self.labels)),
            "predicted": _encode(self.predicted[0], len(self.labels)),
        }

    @classmethod
    def from_json(cls, labels: Sequence[str], data: Any, where: str) -> Predictions:
        try:
            actual = _decode(data["actual"], len(labels))
            predicted = _decode(data["predicted"], len(labels))
            split = str(data["split"])
        except (KeyError, TypeError, ValueError) as exc:
            raise FullcycleError(
                f"{where} is not a predictions file fullcycle wrote ({exc!r}): rerun "
                "`dvc repro evaluate` (or `fullcycle evaluate`) to rewrite it."
            ) from None
        if len(actual) != len(predicted) or len(actual) != int(data.get("rows", len(actual))):
            raise FullcycleError(f"{where}: 'actual' and 'predicted' differ in length.")
        return cls(tuple(labels), split, actual, predicted[None, :])

    def seeds(self, *others: Predictions) -> Predictions:
        """These predictions and `others` (same split) as one multi-seed set."""
        for other in others:
            require_pairable(self, other, "seed runs")
        rows = np.vstack([self.predicted, *(o.predicted for o in others)])
        return Predictions(self.labels, self.split, self.actual, rows)


def _encode(values: np.ndarray, n_labels: int) -> str | list[int]:
    if n_labels <= len(_ALPHABET):
        return "".join(_ALPHABET[int(v)] for v in values)
    return [int(v) for v in values]


def _decode(data: str | list[int], n_labels: int) -> np.ndarray:
    if isinstance(data, str):
        values = np.array([_ALPHABET.index(c) for c in data], dtype=np.int64)
    else:
        values = np.array([int(v) for v in data], dtype=np.int64)
    if len(values) and (values.min() < 0 or values.max() >= n_labels):
        raise ValueError("a label index outside the labels list")
    return values


def require_pairable(a: Predictions, b: Predictions, what: str = "these models") -> None:
    if a.labels != b.labels:
        raise FullcycleError(
            f"cannot compare {what}: their labels differ ({', '.join(a.labels)} vs "
            f"{', '.join(b.labels)}). A paired comparison needs one label set."
        )
    if a.split != b.split:
        raise FullcycleError(
            f"cannot compare {what}: they were scored on different splits (split "
            f"{a.split[:8]}, {a.rows} texts vs {b.split[:8]}, {b.rows} texts). A paired "
            "comparison needs the same texts: compare runs of the same data version."
        )


def _scores(weights: np.ndarray, patterns: np.ndarray, rows: Sequence[int], k: int) -> np.ndarray:
    """(accuracy, macro-F1) for each row of `weights` (how often each pattern is drawn), averaged
    over the prediction rows `rows` of `patterns` (row 0: the true labels). Shape (draws, 2)."""
    actual = np.eye(k)[patterns[0]]  # (patterns, k)
    n = weights.sum(1, keepdims=True)
    out = np.zeros((len(weights), 2))
    for r in rows:
        predicted = np.eye(k)[patterns[r]]
        hit = weights @ (actual * (patterns[0] == patterns[r])[:, None])  # true positives
        support = weights @ actual + weights @ predicted
        with np.errstate(invalid="ignore", divide="ignore"):
            f1 = np.where(support > 0, 2 * hit / support, np.nan)  # absent classes do not count
        out[:, 0] += hit.sum(1) / n[:, 0]
        out[:, 1] += np.nanmean(f1, axis=1)
    return out / len(rows)


def _draws(columns: np.ndarray, resamples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct columns (patterns) and a (resamples + 1, patterns) matrix of draw counts,
    row 0 being the observed counts (the point estimate)."""
    patterns, counts = np.unique(columns, axis=1, return_counts=True)
    rng = np.random.default_rng(seed)
    n = int(counts.sum())
    drawn = rng.multinomial(n, counts / n, size=resamples)
    return patterns, np.vstack([counts[None, :], drawn]).astype(np.float64)


def _bounds(samples: np.ndarray, confidence: float) -> tuple[float, float]:
    low, high = np.quantile(samples, [(1 - confidence) / 2, (1 + confidence) / 2])
    return round(float(low), 4), round(float(high), 4)


def interval(
    pred: Predictions,
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> dict[str, Any]:
    """{"accuracy": x, "accuracy_ci": [low, high], "f1_macro": ..., "f1_macro_ci": ...}."""
    if pred.rows == 0:
        return {m: None for m in METRICS} | {f"{m}_ci": None for m in METRICS}
    columns = np.vstack([pred.actual[None, :], pred.predicted])
    patterns, weights = _draws(columns, resamples, seed)
    values = _scores(weights, patterns, range(1, len(columns)), len(pred.labels))
    out: dict[str, Any] = {}
    for j, name in enumerate(METRICS):
        out[name] = round(float(values[0, j]), 4)
        out[f"{name}_ci"] = list(_bounds(values[1:, j], confidence))
    return out


@dataclass(frozen=True)
class Difference:
    """B minus A on one metric, with the paired bootstrap interval and the verdict."""

    metric: str
    a: float
    b: float
    diff: float
    low: float
    high: float
    confidence: float
    p_value: float | None = None  # McNemar's exact test (two single models), else None

    @property
    def verdict(self) -> str:
        if self.p_value is not None and self.p_value >= 1 - self.confidence:
            return SAME
        return verdict(self.low, self.high)

    def words(self) -> str:
        return (
            f"{self.diff:+.4f} ({self.confidence:.0%} interval {self.low:+.4f} to "
            f"{self.high:+.4f}): {self.verdict}"
        )


def verdict(low: float, high: float) -> str:
    if low > 0:
        return BETTER
    if high < 0:
        return WORSE
    return SAME


@dataclass(frozen=True)
class Comparison:
    rows: int
    differences: dict[str, Difference]
    a_only: int  # texts only A gets right (single-seed sets: McNemar's discordant pairs)
    b_only: int
    p_value: float | None  # McNemar's exact test; None for multi-seed sets
    identical: bool  # every prediction the same: nothing was changed that a model can show

    def __getitem__(self, metric: str) -> Difference:
        return self.differences[metric]


def compare(
    a: Predictions,
    b: Predictions,
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    what: str = "these models",
) -> Comparison:
    """B against A on the same texts: the difference in accuracy and macro-F1 with a paired
    bootstrap interval, and McNemar's exact test on the discordant texts."""
    require_pairable(a, b, what)
    from scipy.stats import binomtest  # scipy is slow to import: only when comparing

    columns = np.vstack([a.actual[None, :], a.predicted, b.predicted])
    patterns, weights = _draws(columns, resamples, seed)
    k, sa = len(a.labels), len(a.predicted)
    va = _scores(weights, patterns, range(1, 1 + sa), k)
    vb = _scores(weights, patterns, range(1 + sa, len(columns)), k)
    right_a = (a.predicted == a.actual).mean(0)  # the share of seeds that get each text right
    right_b = (b.predicted == b.actual).mean(0)
    a_only, b_only = int((right_a > right_b).sum()), int((right_b > right_a).sum())
    p_value = None
    if sa == 1 and len(b.predicted) == 1:
        discordant = a_only + b_only
        p_value = 1.0 if discordant == 0 else float(binomtest(b_only, discordant).pvalue)
    differences = {}
    for j, name in enumerate(METRICS):
        low, high = _bounds(vb[1:, j] - va[1:, j], confidence)
        point_a, point_b = float(va[0, j]), float(vb[0, j])  # row 0: the point estimates
        points = round(point_a, 4), round(point_b, 4), round(point_b - point_a, 4)
        differences[name] = Difference(name, *points, low, high, confidence, p_value)
    identical = a.predicted.shape == b.predicted.shape and bool((a.predicted == b.predicted).all())
    return Comparison(a.rows, differences, a_only, b_only, p_value, identical)


def dumps(sets: dict[str, Predictions]) -> str:
    """A predictions file: {"labels": [...], "<split>": {split, rows, actual, predicted}, ...}."""
    labels = next(iter(sets.values())).labels if sets else ()
    body = {"labels": list(labels)} | {name: p.to_json() for name, p in sets.items()}
    return json.dumps(body, indent=1) + "\n"


def loads(text: str, where: str) -> dict[str, Predictions]:
    """The prediction sets of a file `dumps` wrote (`where` names it in errors)."""
    try:
        data = json.loads(text)
        labels = [str(x) for x in data["labels"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise FullcycleError(
            f"{where} is not a predictions file fullcycle wrote ({exc!r}): rerun "
            "`dvc repro evaluate` (or `fullcycle evaluate`) to rewrite it."
        ) from None
    return {
        name: Predictions.from_json(labels, value, f"{where} ({name})")
        for name, value in data.items()
        if name != "labels"
    }
