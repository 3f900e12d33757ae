"""The gate: the first preferred variant within the tolerance of fp32's macro-F1, else fp32."""

from __future__ import annotations

import pytest

from fullcycle.errors import FullcycleError
from fullcycle.optimize.gate import choose

PREFERENCE = ["pruned-int8", "int8", "fp32"]


def scores(**f1: float) -> dict:
    return {name.replace("_", "-"): {"f1_macro": value} for name, value in f1.items()}


def test_the_first_variant_within_tolerance_wins():
    choice = choose(PREFERENCE, scores(pruned_int8=0.95, int8=0.968, fp32=0.972), 0.972, 0.005)
    assert choice.variant == "int8"
    assert "int8: test macro-F1 0.9680 is within 0.005 of fp32's 0.9720" in choice.reason
    assert choice.rejected["pruned-int8"].startswith("pruned-int8 rejected: test macro-F1 0.9500")


def test_a_loss_of_exactly_the_tolerance_passes_and_a_gain_always_does():
    assert choose(["int8"], scores(int8=0.9670), 0.9720, 0.005).variant == "int8"
    assert choose(["int8"], scores(int8=0.99), 0.9720, 0.0).variant == "int8"


def test_fp32_when_every_variant_is_out_of_tolerance():
    choice = choose(["pruned-int8", "int8"], scores(pruned_int8=0.9, int8=0.96), 0.972, 0.005)
    assert choice.variant == "fp32"
    assert choice.reason.startswith("fp32: no preferred variant is within the tolerance")
    assert "int8 rejected: test macro-F1 0.9600 is 0.0120 below" in choice.reason


def test_skipped_variants_are_passed_over_with_their_reason():
    results = {
        "pruned-int8": {"skipped": "optimize.prune.enabled is false"},
        "int8": {"f1_macro": 1},
    }
    choice = choose(PREFERENCE, results, 0.97, 0.005)
    assert choice.variant == "int8"
    assert "pruned-int8 skipped: optimize.prune.enabled is false" in choice.reason


@pytest.mark.parametrize("preference", [[], ["int4"], ["int8", "int8"]])
def test_a_bad_preference_is_named(preference):
    with pytest.raises(FullcycleError, match="optimize.preference"):
        choose(preference, {}, 0.9, 0.005)
