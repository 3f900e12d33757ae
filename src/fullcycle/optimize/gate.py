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

from fullcycle.core import evidence, schema
from fullcycle.core.evidence import Difference, Predictions

FALLBACK = "fp32"  # the fused fp32 ONNX graph: the trained model itself, in ONNX Runtime
VARIANTS = schema.VARIANTS  # every variant the stage can build: optimize.preference's choices
METRIC = "f1_macro"  # the difference the gate reads (McNemar's test reads the right/wrong texts)


@dataclass(frozen=True)
class Rule:
    """optimize.confidence and optimize.margin (conf/optimize/default.yaml)."""

    confidence: float  # of the interval and of McNemar's test
    margin: float  # a loss beyond noise but surely smaller than this is still served

    def passes(self, d: Difference) -> bool:
        return d.verdict != evidence.WORSE or (self.margin > 0 and d.low > -self.margin - 1e-12)


@dataclass(frozen=True)
class Choice:
    variant: str
    reason: str  # one line: why this variant is served
    rejected: dict[str, str]  # variant -> one line: why it is not


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
    for name in preference:  # distinct variants: the schema checked optimize.preference
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
