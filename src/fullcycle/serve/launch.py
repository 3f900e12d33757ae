"""Starting the real server: `fullcycle serve`, and a `bentoml serve` subprocess for tests and
benchmarks (the batching deadlock and /metrics only show up under the real server)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fullcycle.core.errors import FullcycleError
from fullcycle.serve.capture import data_dir

if TYPE_CHECKING:
    from fullcycle.serve.settings import ServeSettings

SERVICE = "fullcycle.serve.service:ClassifierService"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bentoml_command(target: str, host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "bentoml", "serve", target, "--host", host, "--port", str(port)]


STARTUP_ERROR = "fullcycle.core.errors.FullcycleError: "  # how a worker's failed start is logged


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen) -> None:
    """Stop the server and the workers it spawned (its own process group), politely first."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def serving(
    target: str = SERVICE,
    *,
    command: list[str] | None = None,
    cwd: str | os.PathLike[str] = ".",
    env: Mapping[str, str] | None = None,
    log_path: str | os.PathLike[str],
    port: int | None = None,
    startup_timeout: float = 180,
) -> Iterator[Server]:
    """Run `bentoml serve target` on 127.0.0.1 until the block ends; yields once /readyz is 200.
    `command` replaces the bentoml command line (it must serve on `port`, e.g. `fullcycle serve`)."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = Path(log_path)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command or bentoml_command(target, "127.0.0.1", port),
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopping it stops its workers
        )
    server = Server(url, process, log_path)
    try:
        deadline = time.monotonic() + startup_timeout
        while not _ready(url):
            # BentoML restarts a worker whose service fails to start, forever: a fullcycle error
            # in the log (a missing or corrupt model file) will not go away by waiting.
            failed = process.poll() is not None or STARTUP_ERROR in server.log()
            if failed or time.monotonic() > deadline:
                raise RuntimeError(f"the server ({target}) did not start:\n{server.log()[-4000:]}")
            time.sleep(0.3)
        yield server
    finally:
        _stop(process)


def capture_line(cfg: ServeSettings, capture: bool) -> str:
    """The start-up line about traffic capture: on and where the rows go, or off and how to turn
    it on (an operator must not have to read the config to know whether texts are being kept)."""
    if not capture:
        return (
            "capture off: served texts are not recorded (turn it on with `fullcycle serve "
            "--capture`, serve.capture: true or FULLCYCLE_CAPTURE=1)"
        )
    if cfg.capture_sink == "otlp":
        return (
            "capture on: masked texts and predictions go to BentoML's OTLP exporter "
            "(serve.capture_sink: otlp; endpoint from the OTEL_EXPORTER_OTLP_* variables)"
        )
    folder = data_dir(Path(cfg.capture_path).absolute())  # relative to the project root, here
    return (
        f"capture on: masked texts and predictions to {folder}/data.<worker>.log "
        "(serve.capture_path; rotated and capped by serve.capture_max_bytes, capture_rotate_s, "
        "capture_keep_bytes)"
    )


def cli_serve(args) -> int:
    """`fullcycle serve`: `bentoml serve` at the project root (bentofile.yaml names the service),
    serving models/classifier or --model-dir from source."""
    from fullcycle.core.model_meta import read_meta  # not classifier: no torch to say this
    from fullcycle.serve import runtime, settings

    cfg = settings.load()
    model_dir = Path(args.model_dir or cfg.model_dir)
    read_meta(model_dir)  # a clear error now, not a traceback from a worker later
    runtime.check(cfg.runtime, model_dir, cfg.optimized_dir)
    env = {**os.environ, "FULLCYCLE_MODEL_DIR": str(model_dir.resolve())}
    if args.capture is not None:
        env["FULLCYCLE_CAPTURE"] = "1" if args.capture else "0"
    host, port = args.host or cfg.host, args.port or cfg.port
    target = "." if Path("bentofile.yaml").is_file() else SERVICE
    key = (
        "required" if os.environ.get(settings.API_KEY_ENV) else f"off (set {settings.API_KEY_ENV})"
    )
    capture = cfg.capture if args.capture is None else args.capture
    print(
        f"serving {model_dir} ({cfg.runtime} runtime) on http://{host}:{port}: POST /classify, "
        "GET /metadata; "
        f"API key {key}\n{capture_line(cfg, capture)}",
        flush=True,
    )
    command = bentoml_command(target, host, port)
    try:  # the server takes this process over: signals and exit code are bentoml's
        os.execve(command[0], command, env)
    except OSError as exc:
        raise FullcycleError(f"cannot start bentoml serve: {exc}") from None
    return 0
