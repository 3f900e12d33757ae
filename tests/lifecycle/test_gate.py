"""The promotion gate decides on paired evidence, built here from prediction vectors (no training)."""

import numpy as np
import pytest

from fullcycle.core import evidence
from fullcycle.core.errors import FullcycleError
from fullcycle.lifecycle.experiments import (
    BASELINE_METRICS,
    BASELINE_PREDICTIONS,
    EVAL_METRICS,
    EVAL_PREDICTIONS,
    Run,
)
from fullcycle.lifecycle.gate import check_gate
from fullcycle.lifecycle.promote import DEFAULTS

LABELS = ["business", "entertainment", "politics", "sports", "tech"]
N = 532  # BBC's test split


def model(errors: int, n: int = N, texts: str = "t", shift: int = 0) -> evidence.Predictions:
    """A model wrong on `errors` texts (the texts shift..shift+errors-1)."""
    actual = np.arange(n) % 5
    guess = actual.copy()
    wrong = (np.arange(errors) + shift) % n
    guess[wrong] = (actual[wrong] + 1) % 5
    return evidence.Predictions(
        tuple(LABELS),
        evidence.split_hash([f"{texts}{i}" for i in range(n)], [LABELS[a] for a in actual]),
        actual,
        guess[None, :],
    )


def run(pred, baseline=None, labelled=None, name="c") -> Run:
    interval = evidence.interval(pred)
    eval_sets = {"test": pred} | ({"labelled": labelled} if labelled is not None else {})
    base = baseline if baseline is not None else model(17, texts="t")  # TF-IDF: 0.968
    return Run(
        rev=name,
        name=name,
        metrics_by_file={
            EVAL_METRICS: {"test": interval},
            BASELINE_METRICS: {"test": evidence.interval(base)},
        },
        predictions_by_file={EVAL_PREDICTIONS: eval_sets, BASELINE_PREDICTIONS: {"test": base}},
    )


def test_the_tpe_promotion_is_refused_naming_the_interval():
    main = run(model(9), name="main")  # 0.983
    candidate = run(model(12), name="bbc-0-full")  # three articles worse
    gate = check_gate(candidate, main, DEFAULTS)
    assert not gate.passed and not gate.vs_main
    why = gate.failure()
    assert "vs main: f1_macro" in why and "not distinguishable" in why
    assert "(95% interval " in why and "rule is better beyond noise" in why


def test_a_candidate_better_beyond_noise_passes():
    main = run(model(25), name="main")
    candidate = run(model(5))
    gate = check_gate(candidate, main, DEFAULTS)
    assert gate.passed, gate.failure()
    assert gate.headline() == "better beyond noise vs main"
    assert "| vs main |" in gate.table() and "✅ pass" in gate.table()


def test_a_candidate_with_mains_predictions_has_nothing_to_promote():
    main = run(model(9), name="main")
    same = run(model(9))
    gate = check_gate(same, main, DEFAULTS | {"rule": "non_inferior", "margin": 0.02})
    assert not gate.passed
    assert "predictions equal the reference's on all 532 texts" in gate.failure()


def test_non_inferior_passes_a_slightly_worse_cheaper_model_and_refuses_a_worse_one():
    main = run(model(9), name="main")
    rules = DEFAULTS | {"rule": "non_inferior", "margin": 0.03}
    assert check_gate(run(model(12), baseline=model(30)), main, rules).passed
    assert not check_gate(run(model(40)), main, rules).passed


def test_the_model_must_beat_the_baseline_beyond_noise():
    one_article = run(model(16), baseline=model(17))  # the old README's "beats the baseline"
    gate = check_gate(one_article, None, DEFAULTS)
    assert not gate.passed and gate.vs_main  # no model on main yet
    assert gate.failure().startswith("vs baseline:") and "not distinguishable" in gate.failure()
    assert check_gate(run(model(3), baseline=model(17)), None, DEFAULTS).passed


def test_main_scored_on_another_split_leaves_the_baseline_to_decide():
    main = run(model(9, texts="old"), name="main")
    gate = check_gate(run(model(3)), main, DEFAULTS)
    assert gate.passed and "main scored another test split" in gate.table()


def test_the_retrain_passes_on_the_labelled_slice_when_not_worse_on_test():
    slice_main = model(40, n=150, texts="slice")  # the drifted traffic main got wrong
    slice_new = model(5, n=150, texts="slice")
    main = run(model(9), labelled=slice_main, name="main")
    # on test: one article worse than main (noise), wrong where TF-IDF is wrong too
    retrained = run(model(10, shift=100), baseline=model(30, shift=95), labelled=slice_new)
    gate = check_gate(retrained, main, DEFAULTS)
    assert gate.passed, gate.failure()
    assert gate.via_labelled and gate.headline() == "better beyond noise on the labelled slice"
    assert "| vs main, labelled slice |" in gate.table()
    # the same gain on the slice, but worse beyond noise on test: refused
    worse = run(model(40, shift=100), labelled=slice_new)
    assert not check_gate(worse, main, DEFAULTS).passed
    # no gain on the slice beyond noise (2 labelled rows): refused, as on test alone
    tiny_main, tiny_new = model(1, n=2, texts="few"), model(0, n=2, texts="few")
    few = check_gate(
        run(model(10, shift=100), labelled=tiny_new), run(model(9), labelled=tiny_main), DEFAULTS
    )
    assert not few.passed


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "rule",
            "bigger",
            "promote.rule = 'bigger' in params.yaml: use one of superior, non_inferior",
        ),
        ("margin", -0.1, "promote.margin = -0.1 must be >= 0"),
        ("confidence", 95, "promote.confidence = 95 between 0.5 and 1"),
        ("metric", "test.rows", "promote.metric = 'test.rows'"),
    ],
)
def test_a_bad_gate_setting_is_named(key, value, message):
    with pytest.raises(FullcycleError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_gate(run(model(3)), None, DEFAULTS | {key: value})
