"""Capture of served traffic for monitoring: masked texts and predictions, appended as JSONL.

The monitor stage reads every *.jsonl file of the capture folder with
`fullcycle.data.sources.read_table(path, label_optional=True)`: each line has `text` (masked by
`fullcycle.serve.pii.mask_pii` before anything reaches the disk) and the prediction in `predicted`
— never in `label`, which means a true label everywhere else in fullcycle.

The file rotates: when the next batch would take it past `max_bytes`, served.jsonl becomes
served.1.jsonl (served.1 becomes served.2, ...), and the oldest beyond `keep` is deleted, so the
capture never holds more than (keep + 1) x max_bytes on disk.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fullcycle.serve.pii import mask_pii


class Recorder:
    """Appends one JSON line per served text. Each batch is one O_APPEND write, so lines from
    several threads never interleave; a failed write is reported, never fails the request."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        model_version: str,
        max_bytes: int = 50 * 2**20,
        keep: int = 4,
    ) -> None:
        self.path = Path(path)
        self.model_version = model_version
        self.max_bytes = max_bytes
        self.keep = keep
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def rotated(self, n: int) -> Path:
        """served.jsonl -> served.<n>.jsonl (still *.jsonl: the monitor reads the kept ones)."""
        return self.path.with_name(f"{self.path.stem}.{n}{self.path.suffix}")

    def record(self, texts: Sequence[str], predictions: Sequence[dict[str, Any]]) -> None:
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        lines = "".join(
            json.dumps(
                {
                    "time": now,
                    "text": mask_pii(text),
                    "predicted": pred["label"],
                    "score": round(float(pred["score"]), 6),
                    "model": self.model_version,
                },
                ensure_ascii=True,  # pure-ASCII lines: no reader can split one at U+2028 or U+0085
            )
            + "\n"
            for text, pred in zip(texts, predictions, strict=True)
        ).encode("utf-8")
        with self._lock:
            self._rotate_for(len(lines))
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                while lines:  # a regular file takes it all at once unless the disk is full
                    lines = lines[os.write(fd, lines) :]
            finally:
                os.close(fd)

    def _rotate_for(self, size: int) -> None:
        try:
            current = self.path.stat().st_size
        except FileNotFoundError:
            return
        if current == 0 or current + size <= self.max_bytes:
            return
        self.rotated(self.keep).unlink(missing_ok=True)
        for n in range(self.keep - 1, 0, -1):
            if self.rotated(n).exists():
                os.replace(self.rotated(n), self.rotated(n + 1))
        os.replace(self.path, self.rotated(1))
