"""`fullcycle history`: the lifecycle read back from git, as a table.

Two git calls, whatever the size of the history: one `git log` for the data-version and promotion
commits on HEAD (found by their trailers), one `git for-each-ref` for the GTO tags (registrations
and stage assignments, parsed with GTO's own tag grammar). Releases carry their metrics in the tag
message; a stage assignment shows the metrics of the version it points at.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from datetime import datetime

from fullcycle.lifecycle import records
from fullcycle.lifecycle.gitutil import git, repo_root, rev_parse

SEP, END = "\x1f", "\x1e"


@dataclass
class Event:
    date: str  # ISO 8601
    kind: str  # data | traffic | labels | promotion | release | stage
    what: str
    commit: str
    metrics: str


def commit_events() -> list[Event]:
    if rev_parse("HEAD") is None:  # a repository without commits
        return []
    out = git(
        "log",
        "HEAD",
        "-E",
        f"--grep=^({records.DATA}|{records.PROMOTION}|{records.TRAFFIC}|{records.LABELS}):",
        f"--format=%H{SEP}%cI{SEP}%B{END}",
    )
    events = []
    for chunk in filter(None, (c.strip("\n") for c in out.split(END))):
        sha, date, message = chunk.split(SEP, 2)
        if data := records.trailer(records.DATA, message):
            what = (
                f"{data.get('path', '?')}: {data.get('rows', '?')} rows, "
                f"{data.get('classes', '?')} classes, md5 {data.get('md5', '?')[:8]}"
            )
            events.append(Event(date, "data", what, sha[:7], ""))
        if snap := records.trailer(records.TRAFFIC, message):
            what = (
                f"{snap.get('path', '?')}: {snap.get('rows', '?')} rows, "
                f"{snap.get('start', '?')[:16]} to {snap.get('to', '?')[:16]}, model {snap.get('models', '?')}"
            )
            events.append(Event(date, "traffic", what, sha[:7], ""))
        if labels := records.trailer(records.LABELS, message):
            new = labels.get("new_labels", "none")
            what = (
                f"{labels.get('rows', '?')} rows from {labels.get('source', '?').rsplit('/', 1)[-1]} -> {labels.get('path', '?')}"
                + (f", new labels {new}" if new != "none" else "")
            )
            events.append(Event(date, "labels", what, sha[:7], ""))
        if promo := records.trailer(records.PROMOTION, message):
            metric = promo.get("metric", "metric")
            value = records.number(promo.get("candidate"))
            against = ", ".join(
                f"{k} {records.fmt(records.number(promo.get(k)))}" for k in ("main", "baseline")
            )
            events.append(
                Event(
                    date,
                    "promotion",
                    f"experiment {promo.get('experiment', '?')}",
                    sha[:7],
                    f"{metric} {records.fmt(value)} ({against})",
                )
            )
    return events


def tag_events() -> list[Event]:
    from gto.constants import Action
    from gto.tag import parse_name

    out = git(
        "for-each-ref",
        "refs/tags",
        "--format="
        + SEP.join(
            [
                "%(refname:strip=2)",
                "%(creatordate:iso-strict)",
                "%(*objectname)",
                "%(objectname)",
                "%(contents)",
            ]
        )
        + END,
    )
    releases: dict[tuple[str, str], str] = {}  # (artifact, commit) -> metrics text
    parsed = []
    for chunk in filter(None, (c.strip("\n") for c in out.split(END))):
        name, date, target, obj, message = chunk.split(SEP, 4)
        tag = parse_name(name, raise_on_fail=False)
        if not tag:
            continue
        commit = target or obj
        if tag.get("action") == Action.REGISTER:
            fields = records.trailer(records.RELEASE, message) or {}
            releases[(tag["name"], commit)] = " ".join(
                f"{k} {records.fmt(records.number(v))}" for k, v in fields.items()
            )
        parsed.append((name, date, commit, tag))
    versions = {
        (t["name"], c): t["version"] for _, _, c, t in parsed if t.get("action") == Action.REGISTER
    }
    events = []
    for name, date, commit, tag in parsed:
        artifact, action = tag["name"], tag.get("action")
        metrics = releases.get((artifact, commit), "")
        if action == Action.REGISTER:
            events.append(
                Event(date, "release", f"{artifact} {tag['version']}", commit[:7], metrics)
            )
        elif action == Action.ASSIGN:
            version = versions.get((artifact, commit), "?")
            events.append(
                Event(date, "stage", f"{artifact} {version} → {tag['stage']}", commit[:7], metrics)
            )
        elif action in (Action.DEREGISTER, Action.UNASSIGN, Action.DEPRECATE):
            events.append(Event(date, action.value, name, commit[:7], ""))
    return events


def collect() -> list[Event]:
    order = {"traffic": 0, "labels": 0, "data": 0, "promotion": 1, "release": 2, "stage": 3}
    return sorted(
        commit_events() + tag_events(),
        key=lambda e: (datetime.fromisoformat(e.date), order.get(e.kind, 4)),
    )


def table(events: list[Event]) -> str:
    head = Event("date", "event", "what", "commit", "metrics")
    rows = [head, *events]
    widths = [max(len(getattr(r, f)) for r in rows) for f in ("date", "kind", "what", "commit")]
    widths[0] = 16
    lines = []
    for i, r in enumerate(rows):
        cells = [r.date, r.kind, r.what, r.commit]
        cells[0] = cells[0] if i == 0 else cells[0][:16].replace("T", " ")
        lines.append(
            "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + "  " + r.metrics
        )
        if i == 0:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 7)
    return "\n".join(line.rstrip() for line in lines)


def main(args: argparse.Namespace) -> int:
    repo_root()
    events = collect()
    if args.limit:
        events = events[-args.limit :]
    if args.json:
        for event in events:
            print(json.dumps(asdict(event)))
    elif not events:
        print("no lifecycle events yet: `fullcycle data add`, `promote` and `release` record them.")
    else:
        print(table(events))
    return 0
