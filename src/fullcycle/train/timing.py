"""How long the last `fullcycle train` took on this machine: `fullcycle plan` compares its estimate
with it.

Written to .fullcycle/plan/last_train.json (gitignored, machine-specific), never into a stage
output: the train stage's outputs stay a function of its inputs. A write that fails only logs.
"""

from __future__ import annotations

import json
import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fullcycle.core.io import write_json

log = logging.getLogger(__name__)

LAST_TRAIN = Path(".fullcycle/plan/last_train.json")


class Stopwatch:
    """Seconds since it was made, and the 1-minute load average then (how busy the machine was)."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.cpu = time.process_time()
        self.load = load_average()

    def seconds(self) -> float:
        return round(time.perf_counter() - self.started, 1)

    def cpu_seconds(self) -> float:
        """The process's CPU time since (all its threads): what the run cost, however busy the
        machine was (the wall time grows when other jobs share the cores; this does not)."""
        return round(time.process_time() - self.cpu, 1)


def load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:  # not on every platform
        return None


def record(run: Stopwatch, fit_s: float, key: str, summary: dict[str, Any], steps: int) -> None:
    """Write LAST_TRAIN: the run's wall and CPU time (`run`: from its start to the model saved),
    the fit's wall time, its steps and epochs, the run key (checkpoints.run_key: params, data and
    code) and the load."""
    import torch

    data = {
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "total_s": run.seconds(),
        "cpu_s": run.cpu_seconds(),
        "fit_s": round(fit_s, 1),
        "epochs": summary["epochs"],
        "steps": steps,
        "resumed_at_epoch": summary["resumed_at_epoch"],
        "key": key,
        "threads": torch.get_num_threads(),
        "load_average": {"start": run.load, "end": load_average()},
    }
    try:
        write_json(LAST_TRAIN, data)
    except OSError as exc:
        log.warning("could not record the training time in %s: %s", LAST_TRAIN, exc)


def read(path: str | Path = LAST_TRAIN) -> dict[str, Any] | None:
    """The last recorded train, or None when there is none (or it cannot be read)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "total_s" in data else None
