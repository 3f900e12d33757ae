"""The gate, from prediction vectors (no model): the first preferred variant not worse than the fp32
ONNX graph beyond noise on the test split, else fp32."""

from __future__ import annotations

import re

import numpy as np
import pytest
from omegaconf import OmegaConf

from fullcycle.core import params
from fullcycle.core.errors import FullcycleError
from fullcycle.core.evidence import Predictions
from fullcycle.optimize import stage
from fullcycle.optimize.gate import Rule, choose
from tests.conftest import REPO

RULE = Rule(0.95, 0.0)  # conf/optimize/default.yaml's confidence and margin
PREFERENCE = ["pruned-int8", "int8", "fp32"]
LABELS = ("business", "entertainment", "politics", "sports", "tech")
ROWS = 532  # BBC's test split
FP32_WRONG = set(range(8))  # fp32 gets 524 of 532 right


def predictions(wrong: set[int], split: str = "test-split-hash") -> Predictions:
    """A single model's test predictions: right on every text but `wrong`."""
    actual = np.arange(ROWS) % len(LABELS)
    predicted = actual.copy()
    for i in wrong:
        predicted[i] = (actual[i] + 1) % len(LABELS)
    return Predictions(LABELS, split, actual, predicted[None, :])


def fp32_and(**wrong: set[int]) -> dict[str, Predictions]:
    built = {"fp32": predictions(FP32_WRONG)}
    return built | {name.replace("_", "-"): predictions(w) for name, w in wrong.items()}


LOSES_4 = FP32_WRONG | set(range(100, 104))  # 4 articles fewer right than fp32
LOSES_40 = FP32_WRONG | set(range(100, 140))


def test_a_variant_equal_to_fp32_is_served():
    choice = choose(["int8"], fp32_and(int8=FP32_WRONG), {}, RULE)
    assert choice.variant == "int8" and choice.rejected == {}
    assert choice.reason.startswith(
        "int8: test macro-F1 0.9850 vs fp32's 0.9850, difference +0.0000 (95% interval +0.0000 "
        "to +0.0000; McNemar p 1): not distinguishable"
    )


def test_worse_beyond_noise_is_rejected_and_the_next_preference_tried():
    choice = choose(PREFERENCE, fp32_and(pruned_int8=LOSES_40, int8=LOSES_4), {}, RULE)
    assert choice.variant == "int8"
    rejected = choice.rejected["pruned-int8"]
    assert rejected.startswith("pruned-int8 rejected: test macro-F1 ")
    assert rejected.endswith("): worse beyond noise") and "McNemar p " in rejected
    assert choice.reason.endswith(f"({rejected})")


def test_a_loss_of_a_few_articles_is_not_distinguishable_and_served():
    choice = choose(PREFERENCE, fp32_and(int8=LOSES_4), {"pruned-int8": "prune off"}, RULE)
    assert choice.variant == "int8"
    # 4 vs 0 discordant texts: McNemar's exact p = 2 / 2**4, not beyond noise at 95%
    assert "difference -0.0075" in choice.reason and "McNemar p 0.125" in choice.reason
    assert "): not distinguishable (pruned-int8 skipped: prune off)" in choice.reason


def test_fp32_when_every_preferred_variant_is_worse_beyond_noise():
    choice = choose(
        ["pruned-int8", "int8"], fp32_and(pruned_int8=LOSES_40, int8=LOSES_40), {}, RULE
    )
    assert choice.variant == "fp32" and set(choice.rejected) == {"pruned-int8", "int8"}
    assert choice.reason.startswith(
        "fp32: no variant preferred to it passes (pruned-int8 rejected:"
    )
    assert choose(["fp32", "int8"], fp32_and(int8=FP32_WRONG), {}, RULE).reason == (
        "fp32: first in optimize.preference"
    )


def test_a_margin_lets_a_small_loss_beyond_noise_through():
    built = fp32_and(int8=LOSES_40)  # about 0.075 of macro-F1 lost, beyond noise
    assert choose(["int8"], built, {}, Rule(0.95, 0.01)).variant == "fp32"
    choice = choose(["int8"], built, {}, Rule(0.95, 0.2))
    assert choice.variant == "int8"
    assert choice.reason.endswith("worse beyond noise, but by less than optimize.margin 0.2")


def test_pairing_predictions_of_different_splits_is_refused():
    built = fp32_and() | {"int8": predictions(FP32_WRONG, split="another-split")}
    with pytest.raises(FullcycleError, match="cannot compare int8 and fp32: .*different splits"):
        choose(["int8"], built, {}, RULE)


def test_the_choice_is_a_function_of_the_predictions():
    first = choose(PREFERENCE, fp32_and(pruned_int8=LOSES_40, int8=LOSES_4), {}, RULE)
    again = choose(PREFERENCE, fp32_and(pruned_int8=LOSES_40, int8=LOSES_4), {}, RULE)
    assert first == again


def test_skipped_variants_are_passed_over_with_their_reason():
    skipped = {"pruned-int8": "optimize.prune.enabled is false"}
    choice = choose(PREFERENCE, fp32_and(int8=FP32_WRONG), skipped, RULE)
    assert choice.variant == "int8"
    assert "pruned-int8 skipped: optimize.prune.enabled is false" in choice.reason


def optimize_params(**changes) -> str:
    """params.yaml's text with the optimize section changed (conf/ composed, then edited)."""
    cfg = OmegaConf.create(params.compose(REPO / "conf"))
    for key, value in changes.items():
        OmegaConf.update(cfg.optimize, key, value, force_add=True)
    return OmegaConf.to_yaml(cfg)


@pytest.mark.parametrize(
    ("preference", "message"),
    [
        ([], "optimize.preference = []: must be a list out of pruned-int8, int8, fp32"),
        (["int4"], "optimize.preference = ['int4']: must be a list out of pruned-int8"),
        (["int8", "int8"], "optimize.preference = ['int8', 'int8']: lists a variant twice"),
    ],
)
def test_a_bad_preference_is_named(preference, message):
    with pytest.raises(FullcycleError, match=re.escape(message)) as error:
        params.load_text(optimize_params(preference=preference), "params.yaml")
    assert "\n" not in str(error.value)


def test_the_old_tolerance_key_names_its_replacement():
    with pytest.raises(FullcycleError) as error:
        params.load_text(optimize_params(tolerance=0.005), "params.yaml")
    message = str(error.value)
    assert "optimize.tolerance is no longer read" in message
    assert "optimize.confidence and optimize.margin" in message and "fullcycle params" in message


@pytest.mark.parametrize(
    ("values", "rule"),
    [
        ({"confidence": 0.95}, Rule(0.95, 0.0)),
        ({"confidence": 0.9, "margin": 0.01}, Rule(0.9, 0.01)),
    ],
)
def test_confidence_and_margin_are_read(values, rule):
    cfg = params.load_text(optimize_params(**values), "params.yaml")
    assert stage.settings(cfg)[2] == rule


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"confidence": 1.0}, "optimize.confidence = 1.0: must be a number in [0.5, 1)"),
        ({"confidence": 0.3}, "optimize.confidence = 0.3: must be a number in [0.5, 1)"),
        ({"confidence": "high"}, "optimize.confidence = 'high': must be a number in [0.5, 1)"),
        ({"margin": -0.1}, "optimize.margin = -0.1: must be a number in [0, 1)"),
    ],
)
def test_bad_confidence_or_margin_is_one_clear_error(values, message):
    with pytest.raises(FullcycleError, match=re.escape(message)):
        params.load_text(optimize_params(**values), "params.yaml")
