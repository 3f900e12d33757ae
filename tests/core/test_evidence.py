"""fullcycle.core.evidence: seeded bootstrap intervals and paired comparisons, from prediction vectors."""

import numpy as np
import pytest

from fullcycle.core import evidence
from fullcycle.core.errors import FullcycleError
from fullcycle.evaluate.stage import scores

LABELS = ["business", "entertainment", "politics", "sports", "tech"]


def predictions(n: int, accuracy: float, seed: int, texts: str = "t", actual_seed: int = 0):
    """n texts of the 5 labels, a model right on about `accuracy` of them."""
    rng = np.random.default_rng(actual_seed)
    actual = [LABELS[i] for i in rng.integers(0, 5, n)]
    wrong = np.random.default_rng(seed).random(n) > accuracy
    guess = [
        LABELS[(LABELS.index(a) + 1) % 5] if w else a for a, w in zip(actual, wrong, strict=True)
    ]
    return evidence.Predictions.of(LABELS, [f"{texts}{i}" for i in range(n)], actual, guess)


def test_the_bootstrap_is_deterministic_and_covers_the_point():
    pred = predictions(321, 0.96, seed=1)
    first, again = evidence.interval(pred), evidence.interval(pred)
    assert first == again  # the same seed, the same interval: outputs stay byte-stable
    for key in evidence.METRICS:
        low, high = first[f"{key}_ci"]
        assert low < first[key] < high
    # about ±2 points at 0.96 on 321 texts, as the binomial interval says
    low, high = first["accuracy_ci"]
    assert 0.03 < high - low < 0.06
    assert evidence.interval(pred, seed=7) != first  # the seed is what makes it repeatable


def test_point_estimates_match_torchmetrics():
    pred = predictions(500, 0.9, seed=2)
    actual = [LABELS[i] for i in pred.actual]
    guess = [LABELS[i] for i in pred.predicted[0]]
    got, expected = evidence.interval(pred), scores(LABELS, actual, guess)
    assert got["accuracy"] == expected["accuracy"] and got["f1_macro"] == expected["f1_macro"]


def test_identical_predictions_are_not_distinguishable_with_difference_zero():
    pred = predictions(321, 0.96, seed=1)
    comparison = evidence.compare(pred, pred)
    for d in comparison.differences.values():
        assert (d.diff, d.low, d.high) == (0.0, 0.0, 0.0)
        assert d.verdict == "not distinguishable"
    assert comparison.identical and comparison.p_value == 1.0
    assert comparison.a_only == comparison.b_only == 0


def test_three_articles_of_321_are_noise_twenty_are_not():
    base = predictions(321, 0.97, seed=3)
    worse = _flip(base, 3)  # the TPE promotion: three more test articles wrong
    d = evidence.compare(base, worse)["accuracy"]
    assert d.diff == pytest.approx(-3 / 321, abs=1e-4)
    assert d.low < 0 <= d.high and d.verdict == "not distinguishable"
    much_worse = _flip(base, 20)
    assert evidence.compare(base, much_worse)["accuracy"].verdict == "worse beyond noise"
    assert evidence.compare(much_worse, base)["accuracy"].verdict == "better beyond noise"
    comparison = evidence.compare(base, much_worse)
    assert (comparison.a_only, comparison.b_only) == (20, 0) and comparison.p_value < 1e-5


def test_a_pairing_across_different_splits_is_refused():
    a = predictions(321, 0.96, seed=1)
    b = predictions(321, 0.96, seed=1, texts="other")  # same labels, other texts
    with pytest.raises(FullcycleError, match=r"different splits \(split [0-9a-f]{8}, 321 texts"):
        evidence.compare(a, b)


def test_the_file_round_trips_compactly():
    pred = predictions(100_000, 0.96, seed=4)
    text = evidence.dumps({"test": pred})
    assert len(text) < 250_000  # two characters a text: fine to commit
    back = evidence.loads(text, "predictions.json")["test"]
    assert back.split == pred.split and back.labels == pred.labels
    assert (back.actual == pred.actual).all() and (back.predicted == pred.predicted).all()


def test_a_broken_file_is_named():
    with pytest.raises(FullcycleError, match=r"x.json \(test\) is not a predictions file"):
        evidence.loads('{"labels": ["a"], "test": {"split": "s"}}', "x.json")


def test_several_seeds_average_and_pair_on_the_same_texts():
    one = predictions(212, 0.95, seed=5)
    two = _flip(one, 4)
    both = one.seeds(two)
    assert both.predicted.shape == (2, 212)
    mean = (evidence.interval(one)["accuracy"] + evidence.interval(two)["accuracy"]) / 2
    assert evidence.interval(both)["accuracy"] == pytest.approx(mean, abs=1e-4)
    assert evidence.compare(both, one).p_value is None  # McNemar is for one prediction each


def _flip(pred: evidence.Predictions, k: int) -> evidence.Predictions:
    """`pred` with its first k correct texts predicted wrong."""
    guess = pred.predicted.copy()
    right = np.flatnonzero(guess[0] == pred.actual)[:k]
    guess[0, right] = (pred.actual[right] + 1) % len(pred.labels)
    return evidence.Predictions(pred.labels, pred.split, pred.actual, guess)


def test_beyond_noise_needs_the_exact_test_too():
    """2 vs 9 discordant texts of 532: the percentile interval excludes zero, McNemar's exact
    test does not (p = 0.065): not distinguishable."""
    base = predictions(532, 1.0, seed=0)
    worse, better = base.predicted.copy(), base.predicted.copy()
    worse[0, 10:19] = (base.actual[10:19] + 1) % 5  # wrong on 9 texts
    better[0, :2] = (base.actual[:2] + 1) % 5  # wrong on 2 others
    a_worse = evidence.Predictions(base.labels, base.split, base.actual, worse)
    b_better = evidence.Predictions(base.labels, base.split, base.actual, better)
    comparison = evidence.compare(a_worse, b_better)
    d = comparison["accuracy"]
    assert (comparison.a_only, comparison.b_only) == (2, 9) and d.low > 0
    assert comparison.p_value == pytest.approx(0.0654, abs=1e-3)
    assert d.verdict == "not distinguishable"
