"""`fullcycle serve` without a model: a clear error, no traceback, no server; its start-up line
about capture. (The module server of test_service.py is started with `fullcycle serve --capture`:
its real start-up output is checked there.)"""

from __future__ import annotations

from pathlib import Path

from fullcycle.serve.launch import capture_line
from tests.conftest import run
from tests.serve.serve_conf import serve_settings


def test_serve_without_a_model_says_what_to_run(project):
    done = run(project, "fullcycle", "serve", check=False, timeout=60)
    assert done.returncode == 2
    assert "models/classifier" in done.stderr and "fullcycle train" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_start_up_line_says_whether_capture_is_on_and_where_it_writes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # `fullcycle serve` runs at the project root
    off = capture_line(serve_settings(), capture=False)
    assert off.startswith("capture off: served texts are not recorded")
    assert "--capture" in off and "serve.capture: true" in off and "FULLCYCLE_CAPTURE=1" in off
    on = capture_line(serve_settings(capture_path="traffic/here"), capture=True)
    folder = Path.cwd() / "traffic/here/fullcycle_traffic/data"
    assert on.startswith(f"capture on: masked texts and predictions to {folder}/data.<worker>.log")
    otlp = capture_line(serve_settings(capture_sink="otlp"), capture=True)
    assert otlp.startswith("capture on:") and "OTLP" in otlp and "data/captured" not in otlp
