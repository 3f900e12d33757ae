"""`fullcycle monitor`: declared here, next to the step (Evidently loads when it runs)."""

from __future__ import annotations


def register(add, stage, command) -> None:
    p = add(
        "monitor",
        command("fullcycle.monitor.stage:cli_monitor", stage=True),
        "drift between the training texts and current traffic (the monitor stage: reports/drift/)",
    )
    p.add_argument(
        "--current",
        metavar="PATH",
        help="check this CSV/TSV/JSONL/Parquet file (text column, labels optional) instead of "
        "the captured traffic or the held-out production split",
    )
    p.add_argument(
        "--fail-on-drift", action="store_true", help="exit 1 when drift is detected (CI gate)"
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        help="where to write the report (default: reports/adhoc/drift, git-ignored; the monitor "
        "stage passes reports/drift)",
    )
