"""The layers of src/fullcycle (the import-linter contract in pyproject.toml, drawn in
ARCHITECTURE.md): kept by the code as it is, and broken by an import between two pipeline steps
or from core up into a step."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(project: Path, src: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(project / "pyproject.toml")],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(src)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_package_keeps_its_layers():
    done = lint_imports(ROOT, ROOT / "src")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "1 kept, 0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "named"),
    [
        # a step importing a sibling step
        ("evaluate/card.py", "from fullcycle.explain import stage", "fullcycle.explain.stage"),
        # core importing a step
        ("core/params.py", "from fullcycle.train import stage", "fullcycle.train.stage"),
        # a step importing the lifecycle above it
        ("monitor/stage.py", "import fullcycle.lifecycle.promote", "fullcycle.lifecycle.promote"),
    ],
)
def test_an_import_against_the_layers_breaks_the_contract(tmp_path, module, line, named):
    shutil.copytree(ROOT / "src" / "fullcycle", tmp_path / "src" / "fullcycle")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "src" / "fullcycle" / module
    target.write_text(target.read_text() + f"\n{line}  # against the layers\n")
    done = lint_imports(tmp_path, tmp_path / "src")
    assert done.returncode == 1, done.stdout[-3000:]
    assert "BROKEN" in done.stdout
    assert named in done.stdout
