"""The promotion gate: a candidate is promoted on evidence, not on a larger number.

Every check is a paired comparison on the same texts (`fullcycle.core.evidence.compare`): the
difference in `promote.metric` with its bootstrap interval at `promote.confidence`.
- vs the baseline: always `superior`: the model must beat TF-IDF beyond noise (by more than
  `promote.baseline_margin`), on the candidate's own test split;
- vs main, on the test split, by `promote.rule`: `superior` (the interval's lower end above
  `promote.margin`) or `non_inferior` (above −`promote.margin`);
- or, when the candidate brings a labelled slice (`fullcycle label import`), the retrain route:
  better than main's model beyond noise on that slice *and* not worse beyond noise on test (main's
  model is scored on the slice here when main's own evaluation predates it).
A candidate whose test predictions equal main's changed nothing a model can show: refused.
When main scored another test split (the data changed), the two cannot be paired: the vs-main
check says so and the baseline check, on the new split, decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fullcycle.core import evidence, paths
from fullcycle.core.evidence import Difference, Predictions
from fullcycle.core.schema_release import Promote
from fullcycle.lifecycle import records
from fullcycle.lifecycle.experiments import BASELINE_PREDICTIONS, EVAL_PREDICTIONS, Run
from fullcycle.lifecycle.labelled_slice import main_on_slice


@dataclass
class Check:
    name: str
    rule: str  # superior | non_inferior | not_worse
    margin: float
    difference: Difference | None = None
    note: str = ""  # why there is no difference to judge
    passes_without: bool = False  # e.g. no model on main yet: nothing to compare with
    identical: bool = False
    rows: int = 0

    @property
    def passed(self) -> bool:
        d = self.difference
        if d is None:
            return self.passes_without
        if self.identical:
            return False
        if self.rule == "superior":
            above = d.low > self.margin + 1e-12
            # better than zero beyond noise: the verdict, which also asks McNemar's exact test
            # (a negative margin, e.g. a test setup's baseline_margin -1, asks the interval only)
            return above and (self.margin < 0 or d.verdict == evidence.BETTER)
        if self.rule == "non_inferior":
            return d.low > -self.margin - 1e-12
        return d.verdict != evidence.WORSE  # not_worse: not worse beyond noise

    def rule_text(self) -> str:
        if self.rule == "superior":
            return "better beyond noise" + (f" by > {self.margin:g}" if self.margin else "")
        if self.rule == "non_inferior":
            return f"not worse by {self.margin:g} or more, beyond noise"
        return "not worse beyond noise"

    def interval(self) -> str:
        """The difference, its interval and (two single models) McNemar's p: the verdict's inputs."""
        d = self.difference
        if d is None:
            return "—"
        p = "" if d.p_value is None else f", McNemar p {d.p_value:.3g}"
        return f"{d.diff:+.4f} [{d.low:+.4f}, {d.high:+.4f}]{p}"

    def reason(self) -> str:
        d = self.difference
        if d is None:
            return f"{self.name}: {self.note}"
        if self.identical:
            return (
                f"{self.name}: its predictions equal the reference's on all {self.rows} texts, "
                "so there is nothing to promote (did the experiment change any model input?)"
            )
        p = "" if d.p_value is None else f"; McNemar p {d.p_value:.3g}"
        return (
            f"{self.name}: {d.metric} {d.b:.4f} vs {d.a:.4f}, difference {d.diff:+.4f} "
            f"({d.confidence:.0%} interval {d.low:+.4f} to {d.high:+.4f}{p}): {d.verdict}, but "
            f"the rule is {self.rule_text()}"
        )


@dataclass
class Gate:
    metric: str
    candidate: float | None
    main: float | None
    baseline: float | None
    confidence: float
    checks: dict[str, Check] = field(default_factory=dict)
    no_main: str = "no model on main yet"

    @property
    def vs_baseline(self) -> bool:
        return self.checks["baseline"].passed

    @property
    def via_labelled(self) -> bool:
        """The retrain route: better on the labelled slice, not worse on test."""
        labelled, test = self.checks.get("labelled"), self.checks["main"]
        if labelled is None or test.difference is None or test.identical:
            return False
        return labelled.passed and test.difference.verdict != evidence.WORSE

    @property
    def vs_main(self) -> bool:
        return self.checks["main"].passed or self.via_labelled

    @property
    def passed(self) -> bool:
        return self.candidate is not None and self.vs_main and self.vs_baseline

    def table(self) -> str:
        mark = {True: "✅ pass", False: "❌ fail"}
        lines = [
            f"| check ({self.metric}) | candidate | reference | difference "
            f"[{self.confidence:.0%} interval], McNemar's exact test | rule | result |",
            "|---|---|---|---|---|---|",
        ]
        for key, check in self.checks.items():
            d = check.difference
            ref = check.note if d is None else f"{d.a:.4f}"
            cand = records.fmt(self.candidate) if d is None else f"{d.b:.4f}"
            result = mark[check.passed]
            if key == "main" and not check.passed and self.via_labelled:
                result = "➖ not worse beyond noise (the labelled slice decides)"
            lines.append(
                f"| {check.name} | {cand} | {ref} | {check.interval()} | {check.rule_text()} "
                f"| {result} |"
            )
        return "\n".join(lines)

    def headline(self) -> str:
        """The verdict for a PR title: what the evidence says against main (or the baseline)."""
        main = self.checks.get("main")
        if self.via_labelled:
            return f"{self.checks['labelled'].difference.verdict} on the labelled slice"
        if main is not None and main.difference is not None:
            return f"{main.difference.verdict} vs main"
        base = self.checks.get("baseline")
        if base is not None and base.difference is not None:
            return f"{base.difference.verdict} vs the baseline"
        return "no evidence"

    def failure(self) -> str:
        if self.candidate is None:
            return f"the experiment has no {self.metric} (did the evaluate stage run?)"
        reasons = [c.reason() for k, c in self.checks.items() if k == "baseline" and not c.passed]
        if not self.vs_main:
            reasons += [c.reason() for k, c in self.checks.items() if k != "baseline"]
        return "; ".join(reasons)

    def summary(self) -> dict[str, Any]:
        """What reports/promotion/evidence.json records of the gate."""
        out: dict[str, Any] = {"metric": self.metric, "confidence": self.confidence}
        for key, c in self.checks.items():
            d = c.difference
            out[key] = {
                "rule": c.rule,
                "margin": c.margin,
                "passed": c.passed,
                **(
                    {
                        "candidate": d.b,
                        "reference": d.a,
                        "difference": d.diff,
                        "interval": [d.low, d.high],
                        "verdict": d.verdict,
                    }
                    if d
                    else {"note": c.note}
                ),
            }
        return out | {"passed": self.passed}


@dataclass(frozen=True)
class _Rules:
    key: str  # the metric the checks judge (accuracy | f1_macro)
    rule: str
    margin: float
    confidence: float

    def check(
        self,
        name: str,
        ref: Predictions,
        cand: Predictions,
        rule: str = "",
        margin: float | None = None,
    ) -> Check:
        comparison = evidence.compare(
            ref, cand, confidence=self.confidence, what=f"the candidate {name}"
        )
        return Check(
            name,
            rule or self.rule,
            self.margin if margin is None else margin,
            comparison[self.key],
            identical=comparison.identical,
            rows=comparison.rows,
        )


def check_gate(
    candidate: Run, main: Run | None, cfg: Promote, no_main: str = "no model on main yet"
) -> Gate:
    """The gate's checks of `candidate` against `main`, by the `promote` settings `cfg` (checked
    against their schema: gate_settings.settings)."""
    metric, confidence, baseline_margin = cfg.metric, cfg.confidence, cfg.baseline_margin
    rules = _Rules(metric.partition(".")[2], cfg.rule, cfg.margin, confidence)
    gate = Gate(
        metric=metric,
        candidate=candidate.metric(metric),
        main=main.metric(metric) if main else None,
        baseline=candidate.metric(f"{paths.BASELINE_METRICS.as_posix()}:{metric}"),
        confidence=confidence,
        no_main=no_main,
    )
    ours = candidate.predictions(EVAL_PREDICTIONS).get("test")
    base = candidate.predictions(BASELINE_PREDICTIONS).get("test")
    if ours is None or base is None:
        missing = EVAL_PREDICTIONS if ours is None else BASELINE_PREDICTIONS
        gate.checks["baseline"] = Check(
            "vs baseline", "superior", baseline_margin, note=f"no {missing} in the candidate"
        )
    else:
        gate.checks["baseline"] = rules.check(
            "vs baseline", base, ours, "superior", baseline_margin
        )
    gate.checks["main"] = _versus_main(gate, main, ours, rules)
    labelled = candidate.predictions(EVAL_PREDICTIONS).get("labelled")
    if labelled is not None and main is not None and gate.main is not None:
        reference = main_on_slice(main, candidate, labelled)
        gate.checks["labelled"] = rules.check(
            "vs main, labelled slice", reference, labelled, "superior"
        )
    return gate


def _versus_main(gate: Gate, main: Run | None, ours: Predictions | None, rules: _Rules) -> Check:
    name, rule, margin = "vs main", rules.rule, rules.margin
    if main is None or gate.main is None:
        return Check(name, rule, margin, note=gate.no_main, passes_without=True)
    theirs = main.predictions(EVAL_PREDICTIONS).get("test")
    if ours is None or theirs is None:
        where = "the candidate" if ours is None else "main"
        return Check(
            name,
            rule,
            margin,
            note=f"{where} has no {EVAL_PREDICTIONS}: rerun `dvc repro` there and commit it",
        )
    if ours.split != theirs.split:
        return Check(
            name,
            rule,
            margin,
            passes_without=True,
            note=f"main scored another test split ({theirs.split[:8]} vs {ours.split[:8]}): "
            "not comparable, the baseline check decides",
        )
    return rules.check(name, theirs, ours)
