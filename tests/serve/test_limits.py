"""Hostile load against a real `bentoml serve` (the tiny model): oversize bodies are a 413 before
they are read, bodies beyond the memory budget a 503 before they are read, never an OOM; and the
start-up warning when the API is reachable beyond loopback without a key."""

from __future__ import annotations

import re
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from fullcycle.serve import launch
from fullcycle.serve.guard import exposure_warning
from tests.serve.serve_conf import serve_settings

from .conftest import serve_project

LIMITS = {"max_texts": 64, "max_chars": 5000, "max_inflight_mb": 4}  # 1.84 MB bodies, 2 fit
MAX_BODY = serve_settings(**LIMITS).max_body_bytes
WARNING = "WARNING: the API listens on"


def maximal_body() -> bytes:
    """64 texts of 5,000 characters, every one JSON-escaped: the largest valid request."""
    text = '"' + "\\u00e9" * LIMITS["max_chars"] + '"'
    body = ('{"texts": [' + ", ".join([text] * LIMITS["max_texts"]) + "]}").encode()
    assert len(body) <= MAX_BODY and len(body) > 0.99 * MAX_BODY
    return body


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, trained_model: Path, monkeypatch_module):
    """`bentoml serve .` at a project root on all interfaces (BentoML's default), without a key:
    the requests below go to 127.0.0.1."""
    monkeypatch_module.delenv("FULLCYCLE_API_KEY", raising=False)
    root = serve_project(tmp_path_factory.mktemp("limits"), trained_model, **LIMITS)
    port = launch.free_port()
    command = launch.bentoml_command(".", "0.0.0.0", port)
    with launch.serving(command=command, port=port, cwd=root, log_path=root / "log") as running:
        yield SimpleNamespace(url=running.url, port=port, log=running.log, pid=running.process.pid)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def post_headers(port: int, length: int) -> socket.socket:
    """A POST /classify whose headers announce `length` bytes, with no body sent yet."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sock.sendall(
        b"POST /classify HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {length}\r\n\r\n".encode()
    )
    return sock


def status(sock: socket.socket) -> int:
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return int(data.split()[1])


def test_oversize_content_length_is_a_413_before_any_body_byte(server):
    sock = post_headers(server.port, MAX_BODY + 1)
    try:
        assert status(sock) == 413
    finally:
        sock.close()


def held(server, size: int, timeout: float = 60) -> None:
    """Wait until the server holds `size` bytes of request bodies (its /metrics gauge)."""
    deadline = time.monotonic() + timeout
    while True:
        metrics = httpx.get(f"{server.url}/metrics", timeout=10).text
        found = re.findall(r"^fullcycle_inflight_bytes(?:\{[^}]*\})? (\S+)$", metrics, re.M)
        if sum(float(v) for v in found) == size:
            return
        assert time.monotonic() < deadline, f"the server never held {size} bytes:\n{metrics}"
        time.sleep(0.05)


def test_bodies_beyond_the_memory_budget_are_a_503_before_they_are_read(server):
    body = maximal_body()
    first, second = post_headers(server.port, len(body)), post_headers(server.port, len(body))
    try:
        held(server, 2 * len(body))  # both reservations are taken when their headers arrive
        third = post_headers(server.port, len(body))
        try:
            assert status(third) == 503  # answered without a byte of its body
        finally:
            third.close()
        for sock in (first, second):
            sock.sendall(body)
        assert [status(first), status(second)] == [200, 200]
    finally:
        first.close()
        second.close()
    # the reservations were returned: the next maximal request fits again
    response = httpx.post(f"{server.url}/classify", content=body, timeout=120,
                          headers={"Content-Type": "application/json"})  # fmt: skip
    assert response.status_code == 200 and len(response.json()) == LIMITS["max_texts"]


def test_a_flood_of_maximal_bodies_gets_200s_and_503s_only(server):
    body = maximal_body()

    def send(_: int) -> int:
        with httpx.Client(timeout=120) as client:
            return client.post(
                f"{server.url}/classify", content=body,
                headers={"Content-Type": "application/json"},
            ).status_code  # fmt: skip

    before = rss_mb(server.pid)
    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(send, range(16)))
    assert set(codes) <= {200, 503} and 200 in codes, codes
    peak = peak_rss_mb(server.pid)
    print(
        f"flood of 16: {codes.count(200)} x 200, {codes.count(503)} x 503; server RSS {before:.0f} MB before, peak {peak:.0f} MB"
    )
    assert peak - before < 500  # 16 x 1.8 MB bodies: nowhere near an OOM
    assert httpx.get(f"{server.url}/readyz").status_code == 200
    small = httpx.post(f"{server.url}/classify", json={"texts": ["still here"]}, timeout=60)
    assert small.status_code == 200


def _group(pgid: int) -> list[Path]:
    """/proc entries of the server and its workers (its own process group)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if int((proc / "stat").read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                found.append(proc)
        except (OSError, ValueError, IndexError):
            continue
    return found


def _status_mb(pgid: int, field: str) -> float:
    total = 0.0
    for proc in _group(pgid):
        try:
            for line in (proc / "status").read_text().splitlines():
                if line.startswith(field + ":"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            continue
    return total


def rss_mb(pgid: int) -> float:
    return _status_mb(pgid, "VmRSS")


def peak_rss_mb(pgid: int) -> float:
    return _status_mb(pgid, "VmHWM")


def test_listening_on_all_interfaces_without_a_key_warns_once(server):
    log = server.log()
    assert log.count(WARNING) == 1, log[-3000:]
    assert f"{WARNING} 0.0.0.0, beyond this machine, and FULLCYCLE_API_KEY is not set" in log


@pytest.mark.parametrize(
    ("host", "key", "warned"),
    [
        ("0.0.0.0", "", True),
        ("::", "", True),
        ("192.168.1.20", "", True),
        ("0.0.0.0", "a-key", False),
        ("127.0.0.1", "", False),
        ("::1", "", False),
        (None, "", False),
    ],
)
def test_exposure_warning_rule(monkeypatch, host, key, warned):
    monkeypatch.setenv("FULLCYCLE_API_KEY", key)
    assert (exposure_warning(host, "FULLCYCLE_API_KEY") is not None) is warned
