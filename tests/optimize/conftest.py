"""Fixtures of the optimize tests (the random tiny BERT, `random_model`, is in tests/conftest.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import LABELS  # noqa: F401 (the tests import it from here)

TEXTS = [
    "Shares in the bank fell sharply after the results.",
    "The striker scored twice in the second half.",
    "A new phone with a folding screen was launched.",
    "Parliament votes on the budget next week.",
    "ok",
]


@pytest.fixture
def project_copy(optimized_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The trained project without the stage's outputs; cwd inside it."""
    root = tmp_path / "project"
    shutil.copytree(
        optimized_model.parents[1], root, ignore=shutil.ignore_patterns(".git", "dvclive")
    )
    shutil.rmtree(root / "models" / "optimized")
    shutil.rmtree(root / "reports" / "optimize")
    monkeypatch.chdir(root)
    return root
