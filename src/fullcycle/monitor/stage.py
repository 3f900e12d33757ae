"""`fullcycle monitor`: drift between the training texts and the texts the model sees now.

Writes report.html (Evidently's report, for a person), summary.json (the verdict, each check's
score, threshold, verdict and which way its statistic moved, the kinds of drift, row counts) and
metrics.json (the one number people compare between runs: {"drift": "no drift" | the kinds found |
"too few rows"}, a DVC metric), together or not at all, and prints a short plain-text verdict
(see monitor.kinds). The `monitor` stage writes them to reports/drift/ (`--out reports/drift` in
dvc.yaml); run by hand, the command writes to reports/adhoc/drift/ (git-ignored), so checking a
file never leaves the pipeline's committed outputs modified.
`--fail-on-drift` exits 1 on drift of a kind in `monitor.kinds.fail_on` (for CI and schedules);
too few texts to judge is a message and exit 0, never an alarm. Exit codes: 0 no drift (or drift
of a kind that only warns), 1 drift (only with `--fail-on-drift`), 2 any error, a crash included
(one line; the traceback with `fullcycle --debug`, see fullcycle.cli).
"""

from __future__ import annotations

import argparse
import html
import logging
import re
import time
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from fullcycle.core import params, paths
from fullcycle.core.classifier import DEFAULT_DIR, Classifier
from fullcycle.core.errors import FullcycleError
from fullcycle.core.io import atomic_path
from fullcycle.monitor import inputs, kinds
from fullcycle.monitor.checks import MEASURES, Baseline, Moved, evaluate

log = logging.getLogger(__name__)

REPORT_DIR = paths.DRIFT_DIR  # the monitor stage's outputs (dvc.yaml passes --out)
BY_HAND_DIR = paths.ADHOC_DRIFT_DIR  # `fullcycle monitor` without --out: git-ignored
DRIFT_EXIT = 1  # --fail-on-drift; every error exits 2, so a gate can tell the two apart


def run(
    cfg: DictConfig,
    current_path: str | None = None,
    out_dir: str | Path = REPORT_DIR,
    model_dir: str | Path = DEFAULT_DIR,
) -> dict[str, Any]:
    """Compare, write report.html and summary.json into `out_dir`, return the summary."""
    data, monitor = params.section(cfg, "data"), params.section(cfg, "monitor")
    check_settings(monitor)
    seed = int(cfg.get("seed", 0))
    model = Classifier(model_dir)
    reference = inputs.reference(data, model.labels)
    current = inputs.current(data, monitor, model.labels, current_path)
    summary: dict[str, Any] = {
        "drift_detected": False,
        "fails_gate": False,  # drift of a kind in monitor.kinds.fail_on
        "verdict": "",
        "rows": {
            "reference": len(reference),
            "current": len(current),
            "current_labelled": len(current.labelled),
            "current_duplicates_dropped": current.duplicates,
        },
        "sources": {"reference": reference.source, "current": current.source},
        "checks": {},
    }
    min_rows = int(monitor.min_rows)
    short = [
        f"{name} has {n}"
        for name, n in (("current", len(current)), ("reference", len(reference)))
        if n < min_rows
    ]
    if short:
        summary["verdict"] = "too few rows"
        summary["message"] = (
            f"too few texts to judge drift: {' and '.join(short)} distinct text(s), at least "
            f"{min_rows} needed (monitor.min_rows). Nothing was compared: collect more traffic, "
            "or pass a bigger file with --current."
        )
        _write(out_dir, summary, page=_plain_page(summary))
        return summary

    started = time.perf_counter()
    batch = int(monitor.batch_size)
    ref_scored = inputs.score(model, reference, batch)
    cur_scored = inputs.score(model, current, batch)
    baseline = None
    if len(current.labelled) >= min_rows:
        test = inputs.held_out_test(data, model.labels)
        predicted = inputs.score_labels(model, list(test["text"]), batch)
        baseline = Baseline(float((predicted == test["label"].to_numpy()).mean()), len(test))
    scored = time.perf_counter()
    # Evidently's embedding plot runs scikit-learn's TSNE without a random_state, which then
    # draws from numpy's global generator: seeded, the same inputs draw the same report.
    import numpy as np

    np.random.seed(seed)
    snapshot, checks = evaluate(ref_scored, cur_scored, monitor, seed, model.labels, baseline)
    log.info("scoring %.1fs, report %.1fs", scored - started, time.perf_counter() - scored)

    drifted = [c.name for c in checks if c.drift]
    summary["drift_detected"] = bool(drifted)
    summary["verdict"] = "drift" if drifted else "no drift"
    summary["message"] = (
        f"drift detected in {', '.join(drifted)} ({len(drifted)} of {len(checks)} checks)"
        if drifted
        else f"no drift detected ({len(checks)} checks)"
    )
    summary["checks"] = {c.name: c.to_dict() for c in checks}
    # what moved, and whether that kind fails the gate (monitor.kinds.fail_on)
    summary["kinds"] = kinds.classify(ref_scored, cur_scored, checks, monitor, model.labels)
    summary["fails_gate"] = bool(drifted) and summary["kinds"]["fails_gate"]
    if baseline is not None:
        summary["rows"]["test_baseline"] = baseline.rows
    _write(out_dir, summary, snapshot=snapshot)
    return summary


# key: (lowest, highest, integer); min_rows >= 20: fewer rows leave a domain classifier's test
# half without one of the two classes
SETTINGS = {
    "min_rows": (20, None, True),
    "confidence": (0.5, 0.99999, False),
    "permutations": (20, None, True),
    "batch_size": (1, None, True),
    "embedding_map_rows": (10, 2500, True),
}


def check_settings(monitor: DictConfig) -> None:
    """Every setting the checks read, present and in range, or an error naming the key."""
    fix = "Fix conf/monitor/default.yaml (then `fullcycle params`) or override it with -S."

    def number(key: str, value: Any, low: float, high: float | None, integer: bool) -> None:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        ok = ok and (not integer or float(value).is_integer()) and value >= low
        if not ok or (high is not None and value > high):
            kind = "a whole number" if integer else "a number"
            upper = f" and at most {high}" if high is not None else ""
            raise FullcycleError(
                f"params.yaml: monitor.{key} = {value!r}: must be {kind} of at least {low}{upper}. "
                + fix
            )

    for key, (low, high, integer) in SETTINGS.items():
        number(key, monitor.get(key), low, high, integer)
    thresholds = monitor.get("thresholds") or {}
    unknown = sorted(set(thresholds) - set(MEASURES))
    missing = sorted(set(MEASURES) - set(thresholds))
    if unknown or missing:
        raise FullcycleError(
            f"params.yaml: monitor.thresholds must name exactly the checks {sorted(MEASURES)}"
            + (f"; unknown: {unknown}" if unknown else "")
            + (f"; missing: {missing}" if missing else "")
            + f". {fix}"
        )
    for name in MEASURES:
        number(f"thresholds.{name}", thresholds[name], 0, None, False)


def _write(out_dir: str | Path, summary: dict[str, Any], snapshot=None, page: str = "") -> None:
    """report.html, summary.json and metrics.json, all or none (each moved into place only when
    written)."""
    import json

    out_dir = Path(out_dir)
    with (
        atomic_path(out_dir / "report.html") as tmp_html,
        atomic_path(out_dir / "summary.json") as tmp_json,
        atomic_path(out_dir / "metrics.json") as tmp_metrics,
    ):
        if snapshot is not None:  # what save_html writes, with its random ids numbered
            page = stable_ids(snapshot.get_html_str(as_iframe=False))
        tmp_html.write_text(page, encoding="utf-8")
        tmp_json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        metrics = {"drift": headline(summary)}
        tmp_metrics.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")


def headline(summary: dict[str, Any]) -> str:
    """The verdict in a few words, one column of `dvc metrics show`: "no drift", "too few rows",
    or the kinds found ("topic-mix shift", "new domain+quality drop", ...)."""
    found = (summary.get("kinds") or {}).get("found", {})
    names = [kinds.NAMES[k] for k in kinds.KINDS if found.get(k)]
    if names:
        return "+".join(names)
    return summary["verdict"]


# Evidently names each widget and script variable with a fresh random UUID (uuid4/uuid7)
RANDOM_ID = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|metric_[0-9a-f]{32}"
)


def stable_ids(page: str) -> str:
    """The page with each random id replaced by one numbered in order of first appearance (the
    same id everywhere it occurs, so the page still works): the report is a DVC output, and the
    same inputs must give the same bytes."""
    ids: dict[str, str] = {}

    def numbered(match: re.Match[str]) -> str:
        found = match.group(0)
        if found not in ids:
            n = len(ids)
            ids[found] = (
                f"metric_{n:032x}"
                if found.startswith("metric_")
                else f"{n:08x}-0000-0000-0000-000000000000"
            )
        return ids[found]

    return RANDOM_ID.sub(numbered, page)


def _plain_page(summary: dict[str, Any]) -> str:
    rows = "".join(
        f"<li>{html.escape(k)}: {html.escape(str(v))}</li>" for k, v in summary["sources"].items()
    )
    return (
        "<!doctype html><meta charset='utf-8'><title>fullcycle drift report</title>"
        f"<h1>Drift report: {html.escape(summary['verdict'])}</h1>"
        f"<p>{html.escape(summary['message'])}</p><ul>{rows}</ul>"
    )


def verdict_text(summary: dict[str, Any], out_dir: str | Path = REPORT_DIR) -> str:
    """The plain-text verdict the command prints."""
    rows, sources = summary["rows"], summary["sources"]
    lines = [
        f"reference: {sources['reference']}, {rows['reference']} texts",
        f"current:   {sources['current']}, {rows['current']} texts"
        + (f" ({rows['current_labelled']} labelled)" if rows["current_labelled"] else ""),
    ]
    if summary["checks"]:
        lines.append(f"  {'check':<18}{'score':>7}{'threshold':>11}  {'verdict':<8}moved")
        raised = False
        for name, c in summary["checks"].items():
            mark = "*" if c["chance_level"] >= c["threshold"] else " "
            raised |= mark == "*"
            verdict = "DRIFT" if c["drift"] else "ok"
            moved = Moved.from_dict(c["moved"]).text() if c.get("moved") else ""
            if c.get("beyond_limit") and not c["drift"]:
                moved += f"; one-sided: only {c['one_sided']} is harm"
            lines.append(
                f"  {name:<18}{c['score']:>7.3f}{c['threshold']:>10.3f}{mark}  {verdict:<8}{moved}"
            )
        if raised:
            lines.append(
                "  * the chance level for these sample sizes, above the configured threshold"
            )
        lines.append(
            "  score: how different (AUC; Wasserstein distance in training's SDs; Jensen-Shannon;"
            " accuracy points)\n  moved: the statistic behind the score, training -> now"
        )
    if summary.get("kinds"):
        lines += kinds.describe(summary["kinds"])
    head = "DRIFT: " if summary["drift_detected"] else ""
    lines.append(f"{head}{summary['message']}")
    lines.append(
        f"report: {Path(out_dir) / 'report.html'}, summary: {Path(out_dir) / 'summary.json'}"
    )
    if Path(out_dir) == BY_HAND_DIR:
        lines.append(f"(the pipeline's own {REPORT_DIR}/ is written by `dvc repro monitor`)")
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    """`fullcycle monitor [--current PATH] [--fail-on-drift] [--out DIR]`."""
    out_dir = Path(args.out or BY_HAND_DIR)
    # bad input (a DataError) exits 2 like every other error: exit 1 means drift to a CI gate
    summary = run(params.load(), current_path=args.current, out_dir=out_dir)
    print(verdict_text(summary, out_dir))
    return DRIFT_EXIT if args.fail_on_drift and summary.get("fails_gate") else 0
