"""The optimisation gate: serve the first variant of optimize.preference whose test macro-F1 is
within optimize.tolerance of the fp32 model's, else the fp32 model itself.

A function of the scores only (never of a timing), so the stage's outputs stay byte-stable; the
preference order carries what was measured about speed (see `fullcycle optimize --bench`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fullcycle.errors import FullcycleError

FALLBACK = "fp32"  # the fused fp32 ONNX graph: the trained model itself, in ONNX Runtime
VARIANTS = ("pruned-int8", "int8", FALLBACK)  # every variant the stage can build
EPSILON = 1e-9  # scores are rounded to 4 decimals: a loss of exactly the tolerance passes


@dataclass(frozen=True)
class Choice:
    variant: str
    reason: str  # one line: why this variant is served
    rejected: dict[str, str]  # variant -> one line: why it is not


def check_preference(preference: Sequence[str], where: str = "optimize.preference") -> list[str]:
    names = [str(x) for x in preference]
    unknown = [n for n in names if n not in VARIANTS]
    if not names or unknown or len(set(names)) != len(names):
        raise FullcycleError(
            f"params.yaml: {where} = {names} must list distinct variants out of "
            f"{list(VARIANTS)}, fastest first (fix conf/optimize/, then `fullcycle params`)."
        )
    return names


def choose(
    preference: Sequence[str],
    scores: Mapping[str, Mapping[str, Any]],
    reference_f1: float,
    tolerance: float,
) -> Choice:
    """`scores[name]` holds "f1_macro", or "skipped" (a reason) for a variant not built."""
    rejected: dict[str, str] = {}
    for name in check_preference(preference):
        result = scores.get(name) or {"skipped": "not built"}
        if "skipped" in result:
            rejected[name] = f"{name} skipped: {result['skipped']}"
            continue
        f1 = float(result["f1_macro"])
        loss = reference_f1 - f1
        if loss <= tolerance + EPSILON:
            reason = (
                f"{name}: test macro-F1 {f1:.4f} is within {tolerance} of fp32's {reference_f1:.4f}"
            )
            if rejected:
                reason += f" ({'; '.join(rejected.values())})"
            return Choice(name, reason, rejected)
        rejected[name] = (
            f"{name} rejected: test macro-F1 {f1:.4f} is {loss:.4f} below fp32's "
            f"{reference_f1:.4f} (tolerance {tolerance})"
        )
    reason = (
        f"{FALLBACK}: no preferred variant is within the tolerance ({'; '.join(rejected.values())})"
    )
    return Choice(FALLBACK, reason, rejected)
