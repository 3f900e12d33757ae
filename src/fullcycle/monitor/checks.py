"""The drift checks: one Evidently report, and a verdict per check that a gate can trust.

Each check has a score (higher = more different), a configured threshold (how big a change matters)
and a chance level: what sampling noise alone reaches, for these sample sizes, with probability
1 - monitor.confidence. A check alarms when its score reaches the larger of the two, so a tiny
sample cannot false-alarm and a huge one does not alarm on trivial differences. Evidently computes
every score and draws the report; the limits go into its metrics as tests, so the HTML and the
summary agree.

Each check also says which way its statistic moved, in the statistic's own units (mean words per
text 412 -> 388, predicted "sport" 23% -> 31%): a score only says how different. Where only one
direction is harm the check is one-sided (`verdicts.HARM`): fewer unseen words than training's own
is not drift (it is replayed or duplicated training text, see monitor.kinds), fewer correct
answers is.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd
from evidently import DataDefinition, Dataset, MulticlassClassification, Report
from evidently.legacy.calculations.stattests.registry import get_stattest
from evidently.legacy.core import ColumnType
from evidently.legacy.metrics.data_drift import embeddings_drift
from evidently.metrics import Accuracy, EmbeddingsDrift, F1Score, ValueDrift
from evidently.metrics.embeddings import ModelDriftMethod
from omegaconf import DictConfig
from scipy.stats import norm
from sklearn.exceptions import UndefinedMetricWarning
from threadpoolctl import threadpool_limits

from fullcycle.monitor.descriptors import DESCRIPTORS, Vocabulary, describe
from fullcycle.monitor.inputs import Scored
from fullcycle.monitor.verdicts import Check, Moved

EMBEDDINGS = "embeddings"
MEASURES = {
    "text": "AUC of Evidently's TF-IDF domain classifier",
    **{name: f"Wasserstein distance (normed): {what}" for name, what in DESCRIPTORS.items()},
    EMBEDDINGS: "AUC of a domain classifier on the model's sentence embeddings",
    "predictions": "Jensen-Shannon distance between predicted-label shares",
    "accuracy_drop": "test-split accuracy minus accuracy on the labelled current texts",
}
# what each descriptor's mean is, in its own units ("%" values are 0-100)
STATISTICS = {
    "text_length": ("mean characters per text", ""),
    "word_count": ("mean words per text", ""),
    "non_letter_share": ("mean non-letter share", "%"),
    "oov_share": ("mean unseen-word share", "%"),
}


@dataclass
class Baseline:
    """The model's accuracy on held-out labelled texts: what current accuracy is compared with
    (training texts would flatter the model)."""

    accuracy: float
    rows: int


def auc_chance(n_reference: int, n_current: int, confidence: float) -> float:
    """Evidently's domain classifiers are scored on a random half of the rows: the AUC that a
    classifier with nothing to learn exceeds with probability 1 - confidence (Mann-Whitney)."""
    m, n = max(n_reference // 2, 1), max(n_current // 2, 1)
    return 0.5 + norm.ppf(confidence) * math.sqrt((m + n + 1) / (12 * m * n))


def permutation_chance(
    reference: pd.Series,
    current: pd.Series,
    method: str,
    kind: ColumnType,
    cfg: DictConfig,
    seed: int,
) -> float:
    """The score Evidently's `method` gives two samples of these sizes from one distribution:
    mean + z * sd over random re-splits of the pooled values."""
    pooled = pd.concat([reference, current], ignore_index=True).to_numpy()
    test = get_stattest(reference, current, kind, method)
    rng = np.random.default_rng(seed)
    n = len(reference)
    scores = []
    for _ in range(int(cfg.permutations)):
        shuffled = pd.Series(rng.permutation(pooled))
        scores.append(
            test(shuffled[:n], shuffled[n:].reset_index(drop=True), kind, 1.0).drift_score
        )
    # Evidently counts categories in set order, which Python's hash seed changes from run to
    # run: the last bits of the score move, and with them the fingerprint of the metric that
    # carries this limit in report.html. Rounded, the same inputs give the same bytes.
    return round(float(np.mean(scores) + norm.ppf(float(cfg.confidence)) * np.std(scores)), 9)


def text_sample(n_reference: int, n_current: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows for the text check. Evidently's TF-IDF ignores words found in over half of all texts
    (max_df=0.5): with current at most a third of the pooled texts, a phrase added to every current
    text stays visible. Reference at twice current keeps the classifier's classes balanced enough
    to learn a topic shift."""
    rng = np.random.default_rng(seed)
    n_cur = min(n_current, n_reference // 2)
    n_ref = min(n_reference, 2 * n_cur)
    return np.sort(rng.choice(n_reference, n_ref, replace=False)), np.sort(
        rng.choice(n_current, n_cur, replace=False)
    )


def frames(reference: Scored, current: Scored, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per text: the text (only for rows in the text check's sample), the descriptors,
    the predicted and true labels, and the embedding (one column per dimension)."""
    vocabulary = Vocabulary(reference.texts.texts["text"])
    ref_rows, cur_rows = text_sample(len(reference.texts), len(current.texts), seed)
    out = []
    for side, rows, own in ((reference, ref_rows, True), (current, cur_rows, False)):
        texts = side.texts.texts
        sampled = pd.Series([None] * len(texts), dtype=object)
        sampled[rows] = texts["text"].to_numpy()[rows]
        dims = side.embeddings.shape[1]
        out.append(
            pd.concat(
                [
                    pd.DataFrame({"text": sampled}),
                    describe(texts["text"], vocabulary, leave_one_out=own),
                    pd.DataFrame(
                        {"prediction": side.predicted, "label": texts["label"].to_numpy()}
                    ),
                    pd.DataFrame(side.embeddings, columns=[f"emb_{i}" for i in range(dims)]),
                ],
                axis=1,
            )
        )
    return out[0], out[1]


@contextmanager
def embedding_map_rows(rows: int) -> Iterator[None]:
    """Evidently draws a t-SNE map of up to 2,500 embeddings per side: about a minute on two cores.
    A smaller sample draws the same picture in seconds (the drift score uses every row)."""
    saved = embeddings_drift.SAMPLE_CONSTANT
    embeddings_drift.SAMPLE_CONSTANT = int(rows)
    try:
        yield
    finally:
        embeddings_drift.SAMPLE_CONSTANT = saved


def chance_levels(ref: pd.DataFrame, cur: pd.DataFrame, cfg: DictConfig, seed: int) -> dict:
    """Each drift check's chance level for these sample sizes."""
    confidence = float(cfg.confidence)
    n_text_ref, n_text_cur = int(ref["text"].notna().sum()), int(cur["text"].notna().sum())
    levels = {"text": auc_chance(n_text_ref, n_text_cur, confidence)}
    for i, name in enumerate(DESCRIPTORS):
        levels[name] = permutation_chance(
            ref[name], cur[name], "wasserstein", ColumnType.Numerical, cfg, seed + i
        )
    levels[EMBEDDINGS] = auc_chance(len(ref), len(cur), confidence)
    levels["predictions"] = permutation_chance(
        ref["prediction"], cur["prediction"], "jensenshannon", ColumnType.Categorical, cfg, seed
    )
    return levels


def drift_metric(check: Check):
    """The Evidently metric that scores `check`, with its limit as the metric's test."""
    from evidently.tests import lt

    limit = check.limit
    # a one-sided check that moved the harmless way is not drift: no failed test in the HTML either
    tests = [] if check.harmless_way else [lt(limit)]
    if check.name == "text":
        return ValueDrift(
            column="text", method="abs_text_content_drift", threshold=limit, tests=tests
        )
    if check.name in DESCRIPTORS:
        return ValueDrift(column=check.name, method="wasserstein", threshold=limit, tests=tests)
    if check.name == EMBEDDINGS:
        method = ModelDriftMethod(threshold=limit)
        return EmbeddingsDrift(embeddings_name=EMBEDDINGS, drift_method=method, tests=tests)
    return ValueDrift(column="prediction", method="jensenshannon", threshold=limit, tests=tests)


def evaluate(
    reference: Scored,
    current: Scored,
    cfg: DictConfig,
    seed: int,
    labels: list[str],
    baseline: Baseline | None = None,
):
    """Run every check in one Evidently report; returns (snapshot, checks)."""
    from evidently.tests import gte

    ref, cur = frames(reference, current, seed)
    levels = chance_levels(ref, cur, cfg, seed)
    drift = [
        Check(name, math.nan, float(cfg.thresholds[name]), levels[name], moved(name, ref, cur))
        for name in levels
    ]
    metrics = [drift_metric(check) for check in drift]

    # a label the model does not know is reported as unknown (see kinds), never scored as an error
    labelled = cur["label"].notna() & cur["label"].isin(labels)
    quality, classification = None, None
    if baseline is not None and labelled.sum() >= int(cfg.min_rows):
        quality = accuracy_check(cur[labelled], baseline, cfg.thresholds, float(cfg.confidence))
        if labelled.all() and set(cur["label"]) <= set(labels) and _not_binary(ref, cur):
            # Evidently's view of it: accuracy and F1 on current next to the training split's
            metrics += [Accuracy(tests=[gte(baseline.accuracy - quality.limit)]), F1Score()]
            classification = [
                MulticlassClassification(target="label", prediction_labels="prediction")
            ]
    if classification is None:
        ref, cur = ref.drop(columns="label"), cur.drop(columns="label")
    definition = DataDefinition(
        text_columns=["text"],
        numerical_columns=list(DESCRIPTORS),
        categorical_columns=["prediction", "label"] if classification else ["prediction"],
        embeddings={EMBEDDINGS: [c for c in ref.columns if c.startswith("emb_")]},
        classification=classification,
    )
    # one OpenMP thread: t-SNE's threads spin-wait when the cores are busy (10x slower on a
    # shared 2-core machine), and the single-threaded map of 1,000 points takes seconds anyway
    with (
        embedding_map_rows(int(cfg.embedding_map_rows)),
        threadpool_limits(1, user_api="openmp"),
        warnings.catch_warnings(),
    ):
        # per-class precision of a class never predicted is 0 by definition, not news to a reader
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        snapshot = Report(metrics).run(
            Dataset.from_pandas(cur, data_definition=definition),
            Dataset.from_pandas(ref, data_definition=definition),
        )
    for check, metric in zip(drift, metrics, strict=False):
        check.score = float(snapshot.context.get_metric_result(metric).value)
        if check.name in ("text", EMBEDDINGS):  # a domain classifier: 0.5 = cannot tell apart
            check.moved = Moved("AUC", 0.5, check.score)
    return snapshot, drift + ([quality] if quality is not None else [])


def moved(name: str, ref: pd.DataFrame, cur: pd.DataFrame) -> Moved | None:
    """Which way the statistic behind check `name` moved (the AUC checks get theirs once scored)."""
    if name in STATISTICS:
        statistic, unit = STATISTICS[name]
        return Moved(statistic, float(ref[name].mean()), float(cur[name].mean()), unit)
    if name == "predictions":  # the label whose predicted share moved most
        old = ref["prediction"].astype(str).value_counts(normalize=True)
        new = cur["prediction"].astype(str).value_counts(normalize=True)
        change = new.sub(old, fill_value=0.0)
        label = str(change.abs().sort_index().idxmax())
        return Moved(
            f'share predicted "{label}"', 100 * old.get(label, 0.0), 100 * new.get(label, 0.0), "%"
        )
    return None


def accuracy_check(
    labelled: pd.DataFrame, baseline: Baseline, limits: DictConfig, confidence: float
) -> Check:
    """Accuracy drop against the test split, with a two-proportion chance level."""
    n = len(labelled)
    accuracy = float((labelled["prediction"] == labelled["label"]).mean())
    pooled = (accuracy * n + baseline.accuracy * baseline.rows) / (n + baseline.rows)
    spread = math.sqrt(max(pooled * (1 - pooled), 1e-12) * (1 / n + 1 / baseline.rows))
    return Check(
        "accuracy_drop",
        baseline.accuracy - accuracy,
        float(limits.accuracy_drop),
        norm.ppf(confidence) * spread,
        Moved("accuracy (test split vs labelled now)", baseline.accuracy, accuracy),
    )


def _not_binary(*frames: pd.DataFrame) -> bool:
    """Evidently's accuracy and F1 take a side whose labels and predictions hold exactly two
    classes for a binary task with classes 0/1 and fail (KeyError) on named classes. Our own
    accuracy check runs regardless; only Evidently's view of it is left out then."""
    return all(len(set(f["label"]) | set(f["prediction"])) != 2 for f in frames)
