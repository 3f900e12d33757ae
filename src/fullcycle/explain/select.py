"""Which test texts to explain, in which order, and how many fit the budget (no torch here).

Order of priority: every misclassified text (most confident mistakes first), then per class, in
turns, the most confident and the least confident correct ones (`per_class` of each). The budget
keeps the longest prefix of that list whose *estimated* cost fits: the estimate is arithmetic on
the token counts, the steps and the model size, divided by `cpu_gflops` (the measured speed of the
reference CPU), so the same inputs always explain the same texts. A wall-clock budget would make
the stage's outputs depend on how busy the machine was; this one can overrun on a slower machine
(by the ratio of the speeds) and finishes early on a faster one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MISCLASSIFIED, MOST, LEAST = "misclassified", "most confident correct", "least confident correct"


@dataclass(frozen=True)
class Pick:
    row: int  # index into the test split
    kind: str


def choose(
    labels: Sequence[str],
    actual: Sequence[str],
    predicted: Sequence[str],
    scores: Sequence[float],
    per_class: int,
) -> list[Pick]:
    rows = range(len(actual))
    wrong = sorted((i for i in rows if predicted[i] != actual[i]), key=lambda i: (-scores[i], i))
    picks = [Pick(i, MISCLASSIFIED) for i in wrong]
    most, least = {}, {}
    for label in labels:
        right = sorted(
            (i for i in rows if actual[i] == label == predicted[i]), key=lambda i: (-scores[i], i)
        )
        most[label] = right[:per_class]
        least[label] = [i for i in reversed(right) if i not in most[label]][:per_class]
    for rank in range(per_class):
        for label in labels:
            for kind, chosen in ((MOST, most[label]), (LEAST, least[label])):
                if rank < len(chosen):
                    picks.append(Pick(chosen[rank], kind))
    return picks


def within_budget(
    tokens: Sequence[int],
    n_steps: int,
    flops_per_token_step: int,
    gflops: float,
    seconds: float | None,
) -> tuple[int, float]:
    """How many of the texts (a prefix, in order) fit in `seconds`, and their estimated seconds.
    Each text costs n_steps integration steps plus two plain forward passes (the delta)."""
    total, count = 0.0, 0
    for n in tokens:
        cost = n * (n_steps + 2) * flops_per_token_step / (gflops * 1e9)
        if seconds is not None and total + cost > seconds:
            break
        total, count = total + cost, count + 1
    return count, round(total, 1)
