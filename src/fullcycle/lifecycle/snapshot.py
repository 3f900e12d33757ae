"""`fullcycle traffic snapshot`: captured traffic becomes a versioned batch of data.

The rows captured since the last snapshot (the `to=` time of the newest `Fullcycle-Traffic:` commit
on HEAD) are written as one Parquet file, data/production/YYYY-MM-DD_HHMM.parquet, tracked with
`dvc add`, committed with a message stating rows, time range and model version(s), and pushed to
the DVC remote when one is configured. Rows younger than a couple of seconds wait for the next
snapshot: a request being written now can carry a time a little before a row already on disk.
No new rows: exit 0, nothing written. No captured traffic at all: an error (is capture on?).
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from fullcycle.core.errors import FullcycleError
from fullcycle.core.io import atomic_path
from fullcycle.lifecycle import records
from fullcycle.lifecycle.gitutil import (
    git,
    repo_root,
    rev_parse,
)
from fullcycle.lifecycle.versioning import version_file

SETTLE_S = 2.0  # rows younger than this wait for the next snapshot (see the module docstring)
COLUMNS = ["time", "text", "predicted", "score", "model", "request_id"]


def utc_now() -> datetime:
    """The snapshot's clock: what "now" and so "younger than SETTLE_S" mean (tests move it on
    instead of sleeping)."""
    return datetime.now(UTC)


def last_snapshot_end() -> str | None:
    """The `to=` time of the newest traffic snapshot committed on HEAD, if any."""
    if rev_parse("HEAD") is None:
        return None
    message = git("log", "-1", "HEAD", f"--grep=^{records.TRAFFIC}:", "--format=%B")
    fields = records.trailer(records.TRAFFIC, message) if message else None
    return fields.get("to") if fields else None


def new_rows(capture_dir: Path, after: str | None, before: str) -> tuple[pd.DataFrame, int]:
    """Captured rows with after < time < before (ISO UTC strings compare as times), sorted by time;
    and how many rows were captured in all."""
    from fullcycle.serve.capture import captured_files, read_rows

    files = captured_files(capture_dir)
    rows, total = [], 0
    after_ts = _epoch(after) if after else None
    for path in files:
        if after_ts is not None and path.stat().st_mtime < after_ts - 1:
            total += 1  # untouched since the last snapshot: every row in it is versioned
            continue
        for row in read_rows(path):
            total += 1
            stamp = str(row["time"])
            if (after is None or stamp > after) and stamp < before:
                rows.append({c: row.get(c) for c in COLUMNS})
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame = frame.sort_values("time", kind="stable").reset_index(drop=True)
    return frame.astype({"text": str, "predicted": str, "model": str, "score": float}), total


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


def batch_path(out_dir: Path, now: datetime) -> Path:
    """YYYY-MM-DD_HHMM.parquet; a second snapshot in the same minute gets the seconds too."""
    path = out_dir / f"{now:%Y-%m-%d_%H%M}.parquet"
    return path if not path.exists() else out_dir / f"{now:%Y-%m-%d_%H%M%S}.parquet"


def cli_traffic_snapshot(args: argparse.Namespace) -> int:
    from fullcycle.core import params

    root = repo_root()
    if root.resolve() != Path.cwd().resolve():
        raise FullcycleError(f"run `fullcycle traffic snapshot` from the project root ({root}).")
    cfg = params.load()
    capture_dir = Path(args.capture_dir or params.section(cfg, "serve").capture_path)
    out_dir = Path(args.out_dir or params.section(cfg, "monitor").production_dir)
    started = time.perf_counter()
    now = utc_now()
    before = (now - timedelta(seconds=SETTLE_S)).isoformat(timespec="microseconds")
    after = last_snapshot_end()
    frame, total = new_rows(capture_dir, after, before)
    if total == 0:
        raise FullcycleError(
            f"no captured traffic in {capture_dir}/: serve with capture on (`fullcycle serve "
            "--capture`, or serve.capture: true) and send some requests first. Nothing was written."
        )
    if frame.empty:
        since = f" since the last snapshot ({after})" if after else ""
        print(f"nothing new: no captured rows{since} in {capture_dir}/. Nothing was written.")
        return 0

    out = batch_path(out_dir, now)
    models = sorted(frame["model"].unique())
    record = records.TrafficSnapshot(
        path=str(out),
        rows=len(frame),
        start=str(frame["time"].iloc[0]),
        to=str(frame["time"].iloc[-1]),
        models=",".join(models),
    )
    body = (
        f"captured in {capture_dir}/ by model(s) {', '.join(models)}\n"
        "predicted labels: "
        + ", ".join(f"{k} {v}" for k, v in frame["predicted"].value_counts().items())
    )

    def write() -> None:
        with atomic_path(out) as tmp:
            frame.to_parquet(tmp, index=False)

    done = version_file(
        out,
        write,
        lambda _md5: record.message(body),
        what="snapshot",
        commit=not args.no_commit,
    )
    committed = f"committed {done.sha}; " if done.sha else ""
    print(f"{record.summary()}\n{committed}{done.pushed} ({time.perf_counter() - started:.1f}s).")
    return 0
