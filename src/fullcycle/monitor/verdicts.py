"""A drift check's verdict: its score against the larger of its threshold and its chance level,
and which way the statistic behind it moved (one-sided checks: `HARM`).

`checks` computes the scores and the chance levels in one Evidently report; what turns them into
a verdict a gate can trust (and what summary.json says of each) is here, free of Evidently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# one-sided checks: the only direction of the moved statistic that is harm
HARM = {"oov_share": "up", "accuracy_drop": "down"}


@dataclass
class Moved:
    """Where a check's statistic was in the reference and is now, in its own units."""

    statistic: str
    reference: float
    current: float
    unit: str = ""  # "%": a share in percent, shown with a % sign

    @property
    def direction(self) -> str:
        return (
            "up"
            if self.current > self.reference
            else "down"
            if self.current < self.reference
            else "same"
        )

    def text(self) -> str:
        """e.g. "mean unseen-word share 10.1% -> 5.1% (down 5.0 points)"."""
        change = abs(self.current - self.reference)
        if self.unit == "%":
            values = f"{self.reference:.1f}% -> {self.current:.1f}%"
            by = f"{change:.1f} points"
        elif max(abs(self.reference), abs(self.current)) >= 10:
            values = f"{self.reference:,.0f} -> {self.current:,.0f}"
            by = f"{change:,.0f}"
        else:
            values = f"{self.reference:.3f} -> {self.current:.3f}"
            by = f"{change:.3f}"
        moved = "unchanged" if self.direction == "same" else f"{self.direction} {by}"
        return f"{self.statistic} {values} ({moved})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "statistic": self.statistic,
            "reference": round(self.reference, 4),
            "current": round(self.current, 4),
            "unit": self.unit,
            "direction": self.direction,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Moved:
        return cls(d["statistic"], d["reference"], d["current"], d.get("unit", ""))


@dataclass
class Check:
    name: str
    score: float
    threshold: float  # configured: the smallest change that matters
    chance: float  # what noise alone reaches at these sample sizes
    moved: Moved | None = None

    @property
    def limit(self) -> float:
        return max(self.threshold, self.chance)

    @property
    def beyond_limit(self) -> bool:
        return bool(self.score >= self.limit)

    @property
    def harmless_way(self) -> bool:
        """A one-sided check whose statistic moved the way that is not harm."""
        harm = HARM.get(self.name)
        return harm is not None and self.moved is not None and self.moved.direction != harm

    @property
    def drift(self) -> bool:
        return self.beyond_limit and not self.harmless_way

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": round(self.score, 4),
            "threshold": round(self.limit, 4),
            "chance_level": round(self.chance, 4),
            "drift": self.drift,
            "beyond_limit": self.beyond_limit,  # drift, unless it moved the harmless way
            "one_sided": HARM.get(self.name, "no"),  # the direction that is harm
            "moved": self.moved.to_dict() if self.moved else None,
        }
