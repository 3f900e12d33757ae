"""Which test texts to explain, in which order, and how many fit the budget (no torch here).

Order of priority: every misclassified text (most confident mistakes first), then per class, in
turns, the most confident and the least confident correct ones (`per_class` of each). The budget
keeps the longest prefix of that list whose cost fits, counted in token-steps: the tokens the model
reads of a text times the integration steps (each step is one forward and one backward pass over
those tokens). That count depends only on the texts, the tokenizer and `n_steps`, never on the
machine, so the same inputs always explain the same texts; how many seconds a token-step takes is
the machine's business (the stage prints it, as a log line, not an output). A wall-clock budget, or
seconds estimated with a speed constant, would make the outputs depend on the machine or its load.
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


def within_budget(tokens: Sequence[int], n_steps: int, budget: int | None) -> tuple[int, int]:
    """How many of the texts (a prefix, in order) fit in `budget` token-steps (None: all), and the
    token-steps they cost. A text costs its tokens x n_steps."""
    used, count = 0, 0
    for n in tokens:
        cost = n * n_steps
        if budget is not None and used + cost > budget:
            break
        used, count = used + cost, count + 1
    return count, used
