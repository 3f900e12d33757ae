"""The optimisation gate: serve the first variant of optimize.preference that is not worse than the
fp32 ONNX graph beyond noise on the test split, else the fp32 graph itself.

"Beyond noise" is the evidence module's (`fullcycle.core.evidence.compare`): the paired bootstrap
interval of the test macro-F1 difference, variant minus fp32, on the same texts, and McNemar's exact
test on the texts exactly one of them gets right, at `optimize.confidence`. With
`optimize.margin` > 0 a variant that is worse beyond noise is still served when the whole interval
lies above -margin (promote's non_inferior rule: not worse by `margin` or more, beyond noise).

A function of the predictions only (never of a timing; the bootstrap is seeded), so the stage's
outputs stay byte-stable; the preference order carries what was measured about speed (see
`fullcycle optimize --bench`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fullcycle.core import evidence
from fullcycle.core.errors import FullcycleError
from fullcycle.core.evidence import Difference, Predictions

FALLBACK = "fp32"  # the fused fp32 ONNX graph: the trained model itself, in ONNX Runtime
VARIANTS = ("pruned-int8", "int8", FALLBACK)  # every variant the stage can build
METRIC = "f1_macro"  # the difference the gate reads (McNemar's test reads the right/wrong texts)
RETIRED = {  # keys of older params.yaml files, and what replaced them
    "tolerance": "optimize.confidence and optimize.margin (a variant is served unless it is "
    "worse than fp32 beyond noise on the test split)",
}
FIX = "fix conf/optimize/, then `fullcycle params`"


@dataclass(frozen=True)
class Rule:
    confidence: float = evidence.CONFIDENCE  # of the interval and of McNemar's test
    margin: float = 0.0  # a loss beyond noise but surely smaller than this is still served

    def passes(self, d: Difference) -> bool:
        return d.verdict != evidence.WORSE or (self.margin > 0 and d.low > -self.margin - 1e-12)


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
            f"{list(VARIANTS)}, fastest first ({FIX})."
        )
    return names


def rule_from(opt: Mapping[str, Any]) -> Rule:
    """optimize.confidence and optimize.margin, checked; a retired key is one clear error."""
    for key, replacement in RETIRED.items():
        if key in opt:
            raise FullcycleError(
                f"params.yaml: optimize.{key} is no longer read; it is replaced by {replacement}. "
                "Regenerate params.yaml from conf/ with `fullcycle params`."
            )
    try:
        confidence, margin = float(opt["confidence"]), float(opt.get("margin", 0.0))
    except (KeyError, TypeError, ValueError):
        confidence, margin = -1.0, -1.0
    if not 0.5 <= confidence < 1 or not 0 <= margin < 1:
        raise FullcycleError(
            f"params.yaml: optimize.confidence = {opt.get('confidence')!r} must be in [0.5, 1) "
            f"and optimize.margin = {opt.get('margin', 0.0)!r} a macro-F1 difference in [0, 1), "
            f"e.g. 0.95 and 0 ({FIX})."
        )
    return Rule(confidence, margin)


def judge(label: str, d: Difference, rule: Rule) -> str:
    """One line: the variant's test macro-F1 against fp32's, the difference, its interval, the
    verdict (and the margin, when it is what lets a loss beyond noise through)."""
    p = "" if d.p_value is None else f"; McNemar p {d.p_value:.3g}"
    words = d.verdict
    if d.verdict == evidence.WORSE and rule.passes(d):
        words += f", but by less than optimize.margin {rule.margin:g}"
    return (
        f"{label}: test macro-F1 {d.b:.4f} vs fp32's {d.a:.4f}, difference {d.diff:+.4f} "
        f"({d.confidence:.0%} interval {d.low:+.4f} to {d.high:+.4f}{p}): {words}"
    )


def choose(
    preference: Sequence[str],
    predictions: Mapping[str, Predictions],
    skipped: Mapping[str, str],
    rule: Rule,
) -> Choice:
    """`predictions[name]`: each built variant's test predictions, fp32's among them;
    `skipped[name]`: why a variant was not built."""
    rejected: dict[str, str] = {}
    for name in check_preference(preference):
        if name == FALLBACK:
            break
        if name not in predictions:
            rejected[name] = f"{name} skipped: {skipped.get(name, 'not built')}"
            continue
        comparison = evidence.compare(
            predictions[FALLBACK], predictions[name], rule.confidence, what=f"{name} and fp32"
        )
        d = comparison[METRIC]
        if rule.passes(d):
            reason = judge(name, d, rule)
            if rejected:
                reason += f" ({'; '.join(rejected.values())})"
            return Choice(name, reason, rejected)
        rejected[name] = judge(f"{name} rejected", d, rule)
    if not rejected:
        return Choice(FALLBACK, f"{FALLBACK}: first in optimize.preference", rejected)
    reason = f"{FALLBACK}: no variant preferred to it passes ({'; '.join(rejected.values())})"
    return Choice(FALLBACK, reason, rejected)
