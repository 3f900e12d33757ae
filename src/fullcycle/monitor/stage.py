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
from fullcycle.core.io import atomic_path
from fullcycle.monitor import inputs, kinds
from fullcycle.monitor.checks import Baseline, evaluate
from fullcycle.monitor.verdicts import Check, Moved

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
    seed = int(params.section(cfg, "seed"))
    model = Classifier(model_dir)
    reference = inputs.reference(data, model.labels)
    current = inputs.current(data, monitor, model.labels, current_path)
    summary = _new_summary(reference, current)
    min_rows = int(monitor.min_rows)
    too_few = _too_few_message(len(reference), len(current), min_rows)
    if too_few:
        summary["verdict"] = "too few rows"
        summary["message"] = too_few
        _write(out_dir, summary, page=_plain_page(summary))
        return summary

    started = time.perf_counter()
    ref_scored, cur_scored, baseline = _score(model, reference, current, data, monitor)
    scored = time.perf_counter()
    # Evidently's embedding plot runs scikit-learn's TSNE without a random_state, which then
    # draws from numpy's global generator: seeded, the same inputs draw the same report.
    import numpy as np

    np.random.seed(seed)
    snapshot, checks = evaluate(ref_scored, cur_scored, monitor, seed, model.labels, baseline)
    log.info("scoring %.1fs, report %.1fs", scored - started, time.perf_counter() - scored)

    _add_verdict(summary, checks)
    # what moved, and whether that kind fails the gate (monitor.kinds.fail_on)
    summary["kinds"] = kinds.classify(ref_scored, cur_scored, checks, monitor, model.labels)
    summary["fails_gate"] = summary["drift_detected"] and summary["kinds"]["fails_gate"]
    if baseline is not None:
        summary["rows"]["test_baseline"] = baseline.rows
    _write(out_dir, summary, snapshot=snapshot)
    return summary


def _new_summary(reference: inputs.TextSet, current: inputs.TextSet) -> dict[str, Any]:
    """The summary before anything is compared: no drift yet, the row counts and sources."""
    return {
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


def _too_few_message(n_reference: int, n_current: int, min_rows: int) -> str:
    """Why there are too few texts to judge drift (monitor.min_rows), or "" when there are enough."""
    short = [
        f"{name} has {n}"
        for name, n in (("current", n_current), ("reference", n_reference))
        if n < min_rows
    ]
    if not short:
        return ""
    return (
        f"too few texts to judge drift: {' and '.join(short)} distinct text(s), at least "
        f"{min_rows} needed (monitor.min_rows). Nothing was compared: collect more traffic, "
        "or pass a bigger file with --current."
    )


def _score(
    model: Classifier,
    reference: inputs.TextSet,
    current: inputs.TextSet,
    data: DictConfig,
    monitor: DictConfig,
) -> tuple[inputs.Scored, inputs.Scored, Baseline | None]:
    """The model's scores of both text sets, and (when enough current texts are labelled) its
    accuracy on the held-out test split: the baseline the quality check compares with."""
    batch = int(monitor.batch_size)
    ref_scored = inputs.score(model, reference, batch)
    cur_scored = inputs.score(model, current, batch)
    baseline = None
    if len(current.labelled) >= int(monitor.min_rows):
        test = inputs.held_out_test(data, model.labels)
        predicted = inputs.score_labels(model, list(test["text"]), batch)
        baseline = Baseline(float((predicted == test["label"].to_numpy()).mean()), len(test))
    return ref_scored, cur_scored, baseline


def _add_verdict(summary: dict[str, Any], checks: list[Check]) -> None:
    """The verdict, its message and each check's result, into `summary`."""
    drifted = [c.name for c in checks if c.drift]
    summary["drift_detected"] = bool(drifted)
    summary["verdict"] = "drift" if drifted else "no drift"
    summary["message"] = (
        f"drift detected in {', '.join(drifted)} ({len(drifted)} of {len(checks)} checks)"
        if drifted
        else f"no drift detected ({len(checks)} checks)"
    )
    summary["checks"] = {c.name: c.to_dict() for c in checks}


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


def cli_monitor(args: argparse.Namespace) -> int:
    """`fullcycle monitor [--current PATH] [--fail-on-drift] [--out DIR]`."""
    out_dir = Path(args.out or BY_HAND_DIR)
    # bad input (a DataError) exits 2 like every other error: exit 1 means drift to a CI gate
    summary = run(params.load(), current_path=args.current, out_dir=out_dir)
    print(verdict_text(summary, out_dir))
    return DRIFT_EXIT if args.fail_on_drift and summary.get("fails_gate") else 0
