"""`fullcycle exp diff A B`: two runs compared on the same test texts, with the evidence.

Like `dvc metrics diff`, but each difference comes with its paired bootstrap interval and a
verdict in words ("better beyond noise", "not distinguishable", "worse beyond noise"), and the
texts only one of the two gets right with McNemar's exact test. A and B are anything DVC or git
resolves: an experiment name, a branch, a tag, a commit, or `workspace`. Their predictions are
read from their commits (reports/eval/predictions.json is committed with dvc.lock), so any clone
can compare them without a DVC remote.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from fullcycle.core.errors import FullcycleError
from fullcycle.lifecycle import experiments
from fullcycle.lifecycle.experiments import EVAL_PREDICTIONS, Run
from fullcycle.lifecycle.gitutil import rev_parse

if TYPE_CHECKING:  # numpy and scipy load when a comparison runs, not for `fullcycle --help`
    from fullcycle.core import evidence

NAMES = {"accuracy": "accuracy", "f1_macro": "macro-F1"}
WIDTH = 12  # a run's column


def resolve(name: str) -> Run:
    """A run by experiment name, git ref or `workspace`."""
    if name == "workspace":
        return Run(rev="workspace", name="workspace")
    sha = rev_parse(name)
    if sha is not None:
        return Run(rev=sha, name=name if not sha.startswith(name) else None)
    try:
        return experiments.find(name)
    except FullcycleError:
        raise FullcycleError(
            f"'{name}' is neither an experiment, a branch, a tag nor a commit here. List "
            "experiments with `dvc exp show -A`, branches with `git branch -a`."
        ) from None


def predictions_of(run: Run, split: str) -> evidence.Predictions:
    pred = run.predictions(EVAL_PREDICTIONS).get(split)
    if pred is None:
        raise FullcycleError(
            f"{run.label} has no '{split}' predictions in {EVAL_PREDICTIONS}: its evaluate stage "
            "ran before fullcycle recorded them, or did not run. Rerun it (`dvc exp run` from "
            "it, or `dvc repro evaluate` and commit)."
        )
    return pred


def _short(text: str) -> str:
    return text if len(text) <= WIDTH else text[: WIDTH - 1] + "…"


def table(
    a_name: str,
    b_name: str,
    comparison: evidence.Comparison,
    split: str,
    pred: evidence.Predictions,
) -> str:
    """The readable table (at most ~100 columns)."""
    a, b = _short(a_name), _short(b_name)
    conf = next(iter(comparison.differences.values())).confidence
    lines = [
        f"{b} − {a} on the {split} split ({comparison.rows} texts, split {pred.split[:8]})",
        f"{'metric':<10} {a:>{WIDTH}} {b:>{WIDTH}} {'difference':>10}  "
        f"{f'{conf:.0%} interval':<18}  verdict",
    ]
    for key, d in comparison.differences.items():
        interval = f"[{d.low:+.4f}, {d.high:+.4f}]"
        lines.append(
            f"{NAMES[key]:<10} {d.a:>{WIDTH}.4f} {d.b:>{WIDTH}.4f} {d.diff:>+10.4f}  "
            f"{interval:<18}  {d.verdict}"
        )
    if comparison.identical:
        lines.append(f"the two predict the same label for every one of the {comparison.rows} texts")
    else:
        p = (
            ""
            if comparison.p_value is None
            else f" (McNemar's exact test: p = {comparison.p_value:.3g})"
        )
        lines.append(
            f"right only for {_short(a_name)}: {comparison.a_only} texts; only for "
            f"{_short(b_name)}: {comparison.b_only}{p}"
        )
    return "\n".join(lines)


def as_json(a: Run, b: Run, comparison: evidence.Comparison, split: str) -> dict[str, Any]:
    return {
        "a": {"name": a.name, "rev": a.rev},
        "b": {"name": b.name, "rev": b.rev},
        "split": split,
        "rows": comparison.rows,
        "differences": {
            k: {
                "a": d.a,
                "b": d.b,
                "difference": d.diff,
                "interval": [d.low, d.high],
                "verdict": d.verdict,
            }
            for k, d in comparison.differences.items()
        },
        "a_only": comparison.a_only,
        "b_only": comparison.b_only,
        "mcnemar_p": comparison.p_value,
        "identical": comparison.identical,
    }


def cli_exp_diff(args: argparse.Namespace) -> int:
    """`fullcycle exp diff A [B] [--split test|labelled] [--json]` (B defaults to the workspace)."""
    from fullcycle.core import evidence

    a, b = resolve(args.a), resolve(args.b or "workspace")
    pa, pb = predictions_of(a, args.split), predictions_of(b, args.split)
    comparison = evidence.compare(
        pa, pb, confidence=args.confidence, what=f"{args.a} and {b.label}"
    )
    if args.json:
        print(json.dumps(as_json(a, b, comparison, args.split), indent=2))
    else:
        print(table(args.a, args.b or "workspace", comparison, args.split, pa))
    return 0
