"""Capture of served traffic through BentoML's monitoring API (`bentoml.monitor`).

Each served text is logged, masked, with its prediction: columns `text`, `predicted`, `score`,
`model`, `time` (UTC), plus BentoML's own `timestamp`, `request_id` and `trace_id`. Where the rows go
is BentoML's choice of monitor (its `monitoring:` configuration):
- the file sink (default): BentoML's DefaultMonitor writes JSON lines through Python logging under
  `<serve.capture_path>/fullcycle_traffic/data/data.<worker>.log`. BentoML 1.4.39's own handler
  rotates daily and keeps every file forever, prints a traceback to stderr on every failed write, and
  its set-up raises (failing the request) when the directory cannot be created. So fullcycle hands
  the DefaultMonitor a logging config whose handler is `CappedFileHandler` below: rotation by size
  (`serve.capture_max_bytes`) or age (`serve.capture_rotate_s`), the total kept capped
  (`serve.capture_keep_bytes`, oldest rotated files deleted first), and a failed write (full disk,
  unwritable directory) counted in `/metrics` (`fullcycle_capture_errors_total`) and logged once.
- OTLP (`serve.capture_sink: otlp`, needs `pip install "bentoml[monitor-otlp]"` and the standard
  OTEL_EXPORTER_OTLP_* variables), or any log forwarder tailing the files above.
`fullcycle traffic snapshot` turns the captured files into versioned batches under data/production/.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MONITOR_NAME = "fullcycle_traffic"
COLUMNS = ("time", "text", "predicted", "score", "model")
log = logging.getLogger("fullcycle.serve.capture")


def data_dir(capture_dir: str | os.PathLike[str]) -> Path:
    """Where the file sink writes: BentoML's layout, <log_path>/<monitor name>/data/."""
    return Path(capture_dir) / MONITOR_NAME / "data"


def captured_files(capture_dir: str | os.PathLike[str]) -> list[Path]:
    """Every captured file, current and rotated (data.<worker>.log and data.<worker>.log.<stamp>)."""
    folder = data_dir(capture_dir)
    return sorted(p for p in folder.glob("data.*.log*") if p.is_file()) if folder.is_dir() else []


def read_rows(path: Path) -> Iterator[dict[str, Any]]:
    """The captured rows of one file. A line cut short (the file being written, or a full disk)
    is skipped: capture is best-effort and never blocks a snapshot."""
    with open(path, "rb") as handle:
        for line in handle:
            if not line.endswith(b"\n"):
                break  # being written right now: the next snapshot takes it
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if isinstance(row, dict) and isinstance(row.get("text"), str) and "time" in row:
                yield row


class WriteHealth:
    """Whether capture writes fail: logged once when they start failing and once when they work
    again, never per request (a full disk must not flood the service's log)."""

    def __init__(self, path: Path) -> None:
        self.path, self.failing = path, False

    def failed(self, exc: BaseException) -> None:
        if not self.failing:
            self.failing = True
            log.error(
                "cannot capture served texts to %s (%s); requests are still served, failed "
                "writes are counted in /metrics as fullcycle_capture_errors_total",
                self.path,
                exc,
            )

    def worked(self) -> None:
        if self.failing:
            self.failing = False
            log.warning("capture works again: writing to %s", self.path)


# --- the file sink's handler ---------------------------------------------------------------------


class CappedFileHandler(logging.Handler):
    """A JSON-lines file that rotates by size or age, keeps at most `keep_bytes` in all, and never
    raises: a failed write is counted (see `on_error`) and logged once until writes work again."""

    on_error: Callable[[], None] | None = None  # set by the service: increments a /metrics counter

    def __init__(
        self,
        filename: str,
        max_bytes: int = 64 << 20,
        rotate_s: int = 86400,
        keep_bytes: int = 1 << 30,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.path = Path(filename)
        self.clock = clock  # seconds since the epoch: when a file is old enough to rotate
        self.max_bytes, self.rotate_s, self.keep_bytes = (
            int(max_bytes),
            int(rotate_s),
            int(keep_bytes),
        )
        self._opened_at: float | None = None
        self._health = WriteHealth(self.path)
        self.errors = 0
        self._lock_io = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = (self.format(record) + "\n").encode("utf-8")
            with self._lock_io:
                self._rotate_if_due(len(line))
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                try:
                    while line:  # a regular file takes it all at once unless the disk is full
                        line = line[os.write(fd, line) :]
                finally:
                    os.close(fd)
            self._health.worked()
        except Exception as exc:
            self.failed(exc)

    def failed(self, exc: BaseException) -> None:
        self.errors += 1
        if CappedFileHandler.on_error is not None:
            CappedFileHandler.on_error()
        self._health.failed(exc)

    def _rotate_if_due(self, incoming: int) -> None:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._opened_at = self.clock()
            return
        if self._opened_at is None:
            self._opened_at = self.path.stat().st_mtime if size else self.clock()
        too_big = size and size + incoming > self.max_bytes
        too_old = size and self.clock() - self._opened_at >= self.rotate_s
        if too_big or too_old:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
            os.replace(self.path, self.path.with_name(f"{self.path.name}.{stamp}"))
            self._opened_at = self.clock()
            self._enforce_cap()

    def _enforce_cap(self) -> None:
        """Delete the oldest rotated files until everything kept fits in keep_bytes."""
        rotated = sorted(self.path.parent.glob(f"{self.path.name}.*"))
        sizes = {p: p.stat().st_size for p in rotated}
        total = sum(sizes.values())
        for path in rotated:
            if total <= self.keep_bytes:
                break
            path.unlink(missing_ok=True)
            total -= sizes[path]
            log.info("capture cap (%d bytes) reached: deleted %s", self.keep_bytes, path)


LOGGING_CONFIG = """
version: 1
disable_existing_loggers: false
loggers:
  bentoml_monitor_data:
    level: INFO
    handlers: [bentoml_monitor_data]
    propagate: false
  bentoml_monitor_schema:
    level: INFO
    handlers: [bentoml_monitor_schema]
    propagate: false
handlers:
  bentoml_monitor_data:
    class: fullcycle.serve.capture.CappedFileHandler
    level: INFO
    formatter: bentoml_json
    filename: '{data_filename}'
    max_bytes: %(max_bytes)d
    rotate_s: %(rotate_s)d
    keep_bytes: %(keep_bytes)d
  bentoml_monitor_schema:
    class: fullcycle.serve.capture.CappedFileHandler
    level: INFO
    formatter: bentoml_json
    filename: '{schema_filename}'
    max_bytes: 1048576
    keep_bytes: 1048576
formatters:
  bentoml_json:
    class: pythonjsonlogger.jsonlogger.JsonFormatter
    format: "()"
    validate: false
"""


def _remove(path: str) -> None:
    Path(path).unlink(missing_ok=True)


class Capture:
    """What the service calls: `record(texts, predictions)` logs one row per text through
    `bentoml.monitor`, masked first; it never raises."""

    def __init__(
        self,
        capture_dir: str | os.PathLike[str],
        model_version: str,
        mask: Callable[[str], str],
        sink: str = "file",
        max_bytes: int = 64 << 20,
        rotate_s: int = 86400,
        keep_bytes: int = 1 << 30,
        on_error: Callable[[], None] | None = None,
    ) -> None:
        self.capture_dir = Path(capture_dir).absolute()
        self.model_version = model_version
        self.mask = mask
        self.errors = 0
        self._on_error = on_error
        self._health = WriteHealth(self.path)
        CappedFileHandler.on_error = self._count
        _fresh_monitor()
        self._config: weakref.finalize | None = None
        if sink == "otlp":
            self.monitor_class, self.options = "otlp", {}
        else:
            config = LOGGING_CONFIG % {
                "max_bytes": max_bytes,
                "rotate_s": rotate_s,
                "keep_bytes": keep_bytes,
            }
            handle, name = tempfile.mkstemp(prefix="fullcycle-capture-", suffix=".yaml")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(config)
            self.monitor_class = "default"
            self.options = {"log_path": str(self.capture_dir), "log_config_file": name}
            # BentoML reads it once, when the monitor first logs (even if the write then
            # fails): it goes then, or at close() (the worker's shutdown), or with this object
            self._config = weakref.finalize(self, _remove, name)

    @property
    def path(self) -> Path:
        return data_dir(self.capture_dir)

    def _count(self) -> None:
        self.errors += 1
        if self._on_error is not None:
            self._on_error()

    def close(self) -> None:
        """The logging config goes (once): when BentoML has read it, or at the worker's
        shutdown, read or not."""
        config, self._config = self._config, None
        if config is not None:
            config()  # a finalizer: runs once, however many callers race here

    def record(self, texts: Sequence[str], predictions: Sequence[dict[str, Any]]) -> None:
        import bentoml

        now = datetime.now(UTC).isoformat(timespec="microseconds")
        try:
            # BentoML creates the folders when it first writes (and raises if it cannot)
            with bentoml.monitor(
                MONITOR_NAME, monitor_class=self.monitor_class, monitor_options=self.options
            ) as mon:
                for text, pred in zip(texts, predictions, strict=True):
                    mon.log(self.mask(text), name="text", role="feature", data_type="categorical")
                    mon.log(
                        pred["label"], name="predicted", role="prediction", data_type="categorical"
                    )
                    mon.log(
                        round(float(pred["score"]), 6),
                        name="score",
                        role="prediction",
                        data_type="numerical",
                    )
                    mon.log(
                        self.model_version, name="model", role="feature", data_type="categorical"
                    )
                    mon.log(now, name="time", role="feature", data_type="categorical")
            self._health.worked()
        except Exception as exc:
            _reset_monitor_context()
            self._count()
            self._health.failed(exc)
        if self._config is not None and _config_read():  # after that, no check per request
            self.close()


def _fresh_monitor() -> None:
    """BentoML keeps one monitor per name for the life of the process, with the options it was
    first made with: a new Capture (another directory, e.g. in tests) must start a new one. Its
    "Column name ... is duplicated" warnings (one per column when the first record holds several
    rows) are noise: the schema is the first row's."""
    from bentoml._internal.monitoring import api

    api._MONITOR_INSTANCES.pop(MONITOR_NAME, None)
    logging.getLogger("bentoml._internal.monitoring.base").setLevel(logging.ERROR)


def _config_read() -> bool:
    """Whether BentoML's monitor has set up its loggers from the config file."""
    from bentoml._internal.monitoring import api

    monitor = api._MONITOR_INSTANCES.get(MONITOR_NAME)
    return getattr(monitor, "data_logger", None) is not None


def _reset_monitor_context() -> None:
    """An exception inside `bentoml.monitor` leaves its per-request context set, and the next
    record in the same context would fail BentoML's own assertion: clear it."""
    from bentoml._internal.monitoring import base

    base.MON_DATAS_VAR.set(None)
    base.MON_COLUMN_VAR.set(None)
