"""`fullcycle history`: the lifecycle read back from git, as a table.

Two git calls, whatever the size of the history: one `git log` for the data-version and promotion
commits on HEAD (found by their trailers), one `git for-each-ref` for the GTO tags (registrations
and stage assignments, parsed with GTO's own tag grammar). Releases carry their metrics in the tag
message; a stage assignment shows the metrics of the version it points at.

A clone of the template carries the template's own events (its BBC promotion); `--since REV` and
`--since-data` keep those from REV, or from the commit that added the data trained on now, onwards.
On a terminal the table fits its width (COLUMNS): long cells wrap within their column.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import textwrap
from dataclasses import asdict, dataclass
from datetime import datetime

from fullcycle.core import params
from fullcycle.core.errors import FullcycleError
from fullcycle.lifecycle import records
from fullcycle.lifecycle.gitutil import git, repo_root, rev_parse, show_file

SEP, END = "\x1f", "\x1e"


@dataclass
class Event:
    date: str  # ISO 8601
    kind: str  # data | traffic | labels | promotion | release | stage
    what: str
    commit: str
    metrics: str


def commit_events(since: str | None = None) -> list[Event]:
    if rev_parse("HEAD") is None:  # a repository without commits
        return []
    out = git(
        "log",
        *span(since),
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


def span(since: str | None) -> list[str]:
    """git log's revisions for HEAD's history from the commit `since` on (itself included): HEAD
    minus what its parents reach, so a side branch merged later still counts."""
    if since is None:
        return ["HEAD"]
    parents = git("rev-parse", f"{since}^@").split()
    return ["HEAD", *(f"^{p}" for p in parents)]


def data_commit() -> str:
    """The commit that last changed the .dvc file of the data params.yaml trains on (what
    `fullcycle data add` commits, or a `dvc add` committed by hand)."""
    where = "params.yaml at HEAD"
    cfg = params.load_text(show_file("HEAD", params.PARAMS_FILE) or "", where, sections=("data",))
    data = cfg.get("data")  # none (no params.yaml): the built-in corpus, as conf/ defaults to
    if data is None or data.source != "file":
        raise FullcycleError(
            "params.yaml at HEAD trains on no file of yours (data.source is not `file`), so "
            "there is no data commit to start from: add your data with `fullcycle data add "
            "FILE`, or give a commit with `fullcycle history --since REV`."
        )
    sha = git("log", "-1", "--format=%H", "HEAD", "--", f"{data.path}.dvc")
    if not sha:
        raise FullcycleError(
            f"no commit on HEAD adds {data.path}.dvc (data.path in params.yaml): track the "
            "file with `fullcycle data add FILE`, or give a commit with `--since REV`."
        )
    return sha


def tag_events(since: str | None = None) -> list[Event]:
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
    within = set(git("rev-list", *span(since)).split()) if since else None
    parsed = []
    for chunk in filter(None, (c.strip("\n") for c in out.split(END))):
        name, date, target, obj, message = chunk.split(SEP, 4)
        tag = parse_name(name, raise_on_fail=False)
        if not tag:
            continue
        commit = target or obj
        if within is not None and commit not in within:
            continue
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


def collect(since: str | None = None) -> list[Event]:
    order = {"traffic": 0, "labels": 0, "data": 0, "promotion": 1, "release": 2, "stage": 3}
    return sorted(
        commit_events(since) + tag_events(since),
        key=lambda e: (datetime.fromisoformat(e.date), order.get(e.kind, 4)),
    )


MIN_WRAP = 12  # narrowest a wrapped column gets, however narrow the terminal
NARROW = 100  # below this many columns a date is shown without its time
VALUE_SPACE = re.compile(r"(?<=\S) (?=[-+]?[\d—])")  # "test.f1_macro 0.91", "(main —, ..."


def terminal_width() -> int | None:
    """On a terminal, the width to fit: COLUMNS, else the terminal's own. None into a pipe or a
    file, as `ls` and `git log` do: whole lines there, for grep (`--json` for programs), whatever
    COLUMNS a parent process left in the environment."""
    return shutil.get_terminal_size().columns if sys.stdout.isatty() else None


def wrap(cell: str, width: int, pairs: bool = False) -> list[str]:
    """`cell` in lines of at most `width`; with `pairs`, a metric's name stays on its value's."""
    glued = VALUE_SPACE.sub("\0", cell) if pairs else cell  # textwrap does not break at NUL
    lines = textwrap.wrap(glued, width, break_on_hyphens=False)
    return [line.replace("\0", " ") for line in lines] or [""]


def table(events: list[Event], width: int | None = None) -> str:
    """Columns date, event, what, commit, metrics; with `width`, `what` and `metrics` wrap within
    their columns so that no line is longer (continuation lines leave the other cells blank), and
    below NARROW columns a date drops its time of day."""
    head = Event("date", "event", "what", "commit", "metrics")
    rows = [[e.date[:16].replace("T", " "), e.kind, e.what, e.commit, e.metrics] for e in events]
    rows.insert(0, [head.date, head.kind, head.what, head.commit, head.metrics])
    widths = [max(len(row[c]) for row in rows) for c in range(5)]
    widths[0] = 16
    if width is not None and sum(widths) + 2 * 4 > width:
        if width < NARROW:
            widths[0] = 10
            rows = [[r[0][:10], *r[1:]] for r in rows]
        room = width - widths[0] - widths[1] - widths[3] - 2 * 4  # for what + metrics
        unit = max(
            (len(u) for r in rows[1:] for u in VALUE_SPACE.sub("\0", r[4]).split()), default=0
        )
        metrics = min(widths[4], max(unit, room - widths[2], room * 2 // 5))
        widths[2], widths[4] = max(MIN_WRAP, room - metrics), metrics
    lines = []
    for i, row in enumerate(rows):
        what, metrics = wrap(row[2], widths[2]), wrap(row[4], widths[4], pairs=True)
        cells = [[row[0]], [row[1]], what, [row[3]], metrics]
        for n in range(max(map(len, cells))):
            parts = [
                (col[n] if n < len(col) else "").ljust(w)
                for col, w in zip(cells, widths, strict=True)
            ]
            lines.append("  ".join(parts).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths[:4]) + "  " + "-" * min(7, widths[4]))
    return "\n".join(lines)


def cli_history(args: argparse.Namespace) -> int:
    repo_root()
    since = args.since  # --since and --since-data exclude each other (cli.py)
    if args.since_data:
        since = data_commit()
    elif since:
        since = rev_parse(since) or ""
        if not since:
            raise FullcycleError(
                f"--since {args.since}: no such commit here (a sha, branch or tag; `git log` "
                "lists them)."
            )
    events = collect(since)
    if args.limit:
        events = events[-args.limit :]
    if args.json:
        for event in events:
            print(json.dumps(asdict(event)))
    elif not events:
        print("no lifecycle events yet: `fullcycle data add`, `promote` and `release` record them.")
    else:
        print(table(events, terminal_width()))
    return 0
