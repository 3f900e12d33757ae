"""Capture through bentoml.monitor: rotation by size and age, a cap on what is kept, and a full
disk or an unwritable directory never failing a request (counted in /metrics, logged once)."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from fullcycle.serve import launch
from fullcycle.serve.capture import CappedFileHandler, Capture, captured_files, read_rows
from fullcycle.serve.pii import mask_pii as mask
from tests.conftest import BIN

from .conftest import serve_project

PRED = [{"label": "tech", "score": 0.75}]


def record(handler: CappedFileHandler, text: str) -> None:
    handler.emit(logging.LogRecord("x", logging.INFO, "", 0, text, None, None))


def test_rotates_by_size_and_keeps_at_most_the_cap(tmp_path):
    handler = CappedFileHandler(str(tmp_path / "data.0.log"), max_bytes=1000, keep_bytes=3000)
    for i in range(200):
        record(handler, f"line {i:04d} " + "x" * 40)
    files = sorted(tmp_path.iterdir())
    assert all(f.stat().st_size <= 1000 for f in files)
    rotated = [f for f in files if f.name != "data.0.log"]
    assert sum(f.stat().st_size for f in rotated) <= 3000 and len(rotated) >= 2
    assert "line 0199" in (tmp_path / "data.0.log").read_text()  # the newest rows are kept
    assert "line 0000" not in "".join(f.read_text() for f in files)  # the oldest went first


def test_rotates_by_age(tmp_path):
    now = [1_000_000.0]
    handler = CappedFileHandler(str(tmp_path / "data.0.log"), rotate_s=1, clock=lambda: now[0])
    record(handler, "old")
    now[0] += 0.9
    record(handler, "still young")
    assert len(list(tmp_path.iterdir())) == 1
    now[0] += 0.2
    record(handler, "new")
    assert (tmp_path / "data.0.log").read_text() == "new\n"
    assert len(list(tmp_path.iterdir())) == 2


def test_a_full_disk_is_counted_and_logged_once(caplog):
    handler = CappedFileHandler("/dev/full")  # every write: ENOSPC
    counted = []
    CappedFileHandler.on_error = lambda: counted.append(1)
    try:
        with caplog.at_level(logging.ERROR, "fullcycle.serve.capture"):
            for _ in range(5):
                record(handler, "a text")
    finally:
        CappedFileHandler.on_error = None
    assert handler.errors == 5 and len(counted) == 5
    errors = [r for r in caplog.records if "cannot capture" in r.getMessage()]
    assert len(errors) == 1 and "No space left" in errors[0].getMessage()


def test_an_unwritable_directory_never_raises_and_recovers(tmp_path, caplog):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the capture directory should be")
    errors = []
    traffic = Capture(blocker / "captured", "v1", mask, on_error=lambda: errors.append(1))
    with caplog.at_level(logging.ERROR, "fullcycle.serve.capture"):
        for _ in range(3):
            traffic.record(["mail a@b.io"], PRED)  # must not raise
    assert traffic.errors == 3 and len(errors) == 3
    assert len([r for r in caplog.records if "cannot capture" in r.getMessage()]) == 1
    config = Path(traffic.options["log_config_file"])
    assert config.exists()  # kept: BentoML could not set up its loggers and reads it again
    ok = Capture(tmp_path / "captured", "v1", mask)
    ok.record(["mail a@b.io"], PRED)
    [row] = [r for f in captured_files(tmp_path / "captured") for r in read_rows(f)]
    assert row["text"] == "mail <EMAIL>" and ok.errors == 0
    assert not Path(ok.options["log_config_file"]).exists()  # read: removed


@pytest.fixture(scope="module")
def blocked_server(tmp_path_factory: pytest.TempPathFactory, trained_model: Path):
    """`fullcycle serve --capture` whose capture directory cannot be created."""
    root = serve_project(tmp_path_factory.mktemp("blocked"), trained_model)
    (root / "data").mkdir()
    (root / "data" / "captured").write_text("a file, not a directory")
    port = launch.free_port()
    command = [str(BIN / "fullcycle"), "serve", "--port", str(port), "--capture"]
    with (
        launch.serving(command=command, port=port, cwd=root, log_path=root / "log") as running,
        httpx.Client(base_url=running.url, timeout=60) as client,
    ):
        yield SimpleNamespace(client=client, log=running.log)


def test_the_server_serves_when_capture_cannot_write(blocked_server):
    for _ in range(3):
        response = blocked_server.client.post("/classify", json={"texts": ["a b c", "d e"]})
        assert response.status_code == 200, response.text
    metrics = blocked_server.client.get("/metrics").text
    [line] = [x for x in metrics.splitlines() if x.startswith("fullcycle_capture_errors_total")]
    assert float(line.split()[-1]) >= 3
    assert blocked_server.log().count("cannot capture served texts") == 1


@pytest.mark.parametrize("requests", [2, 0])
def test_the_capture_config_leaves_with_the_server(tmp_path, trained_model, requests):
    """bentoml.monitor reads its logging config from a file: each worker writes one to TMPDIR.
    It is removed once read, and capture goes on; a server that captured nothing removes it at
    shutdown (a file was left in /tmp per start)."""
    root = serve_project(tmp_path / "project", trained_model)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    port = launch.free_port()
    command = [str(BIN / "fullcycle"), "serve", "--port", str(port), "--capture"]
    with launch.serving(
        command=command, port=port, cwd=root, env={"TMPDIR": str(tmp)}, log_path=root / "log"
    ) as running:
        assert len(list(tmp.glob("fullcycle-capture-*.yaml"))) == 1  # written at start-up
        for i in range(requests):
            text = f"text {i}"
            response = httpx.post(f"{running.url}/classify", json={"texts": [text]}, timeout=60)
            assert response.status_code == 200, response.text
            assert not list(tmp.glob("fullcycle-capture-*.yaml"))  # read by the first: removed
    rows = [r for f in captured_files(root / "data" / "captured") for r in read_rows(f)]
    assert [r["text"] for r in rows] == [f"text {i}" for i in range(requests)]
    assert not list(tmp.glob("fullcycle-capture-*.yaml"))
