"""`fullcycle serve` without a model: a clear error, no traceback, no server. (The module server
of test_service.py is started with `fullcycle serve`.)"""

from __future__ import annotations

from tests.conftest import run


def test_serve_without_a_model_says_what_to_run(project):
    done = run(project, "fullcycle", "serve", check=False, timeout=60)
    assert done.returncode == 2
    assert "models/classifier" in done.stderr and "fullcycle train" in done.stderr
    assert "Traceback" not in done.stderr
