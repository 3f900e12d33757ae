"""One source of truth: this repository's own project files are the template rendered.

src/fullcycle/template/ is the only place project files are written. Rendered with this
repository's answers (the BBC example, fullcycle_source: its stages depend on src/fullcycle's
code), it must give this repository's dvc.yaml, conf/, workflows and the rest byte for byte; and a
new user's `--example bbc` may differ from it only in those dependency lines.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from copier import run_copy

from fullcycle.project import store

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "src" / "fullcycle" / "template"
ANSWERS = ".copier-answers.yml"
# Where the issue says the demo and a new project must never drift apart: every file under them.
OWNED = ["dvc.yaml", "conf", ".github/workflows"]


def render(dest: Path, **answers: object) -> Path:
    tag = store.ensure_version()
    data = {"project_name": "fullcycle", "example": "bbc"} | answers
    run_copy(store.store_location(), str(dest), data=data, vcs_ref=tag, defaults=True, quiet=True)
    return dest


def files(root: Path, under: list[str] | None = None) -> set[str]:
    """Every file under `root` (or under its paths `under`), following links: the template's
    links to this repository's files count as its files."""
    found = set()
    for top in [root / u for u in under] if under else [root]:
        if top.is_file():
            found.add(top.relative_to(root).as_posix())
        for folder, _, names in os.walk(top, followlinks=True):
            found |= {(Path(folder) / f).relative_to(root).as_posix() for f in names}
    found.discard(ANSWERS)
    return found


def test_this_repository_is_the_template_rendered(tmp_path):
    rendered = render(tmp_path / "r", fullcycle_source=True)
    differ = [
        f for f in sorted(files(rendered)) if (rendered / f).read_bytes() != (REPO / f).read_bytes()
    ]
    assert not differ, (
        f"{differ} differ from the template's rendering: the template "
        "(src/fullcycle/template/project/) is the source; make the same edit there."
    )
    missing = files(REPO, OWNED) - files(rendered, OWNED)
    assert not missing, f"{sorted(missing)} are not in the template: add them to its project/."


def without_code_dependencies(text: str) -> list[str]:
    drop = ("      - src/fullcycle", "      - pyproject.toml   # names the fullcycle version")
    return [line for line in text.splitlines() if not line.startswith(drop)]


def test_a_new_bbc_project_differs_only_in_its_dependency_lines(tmp_path):
    mine = render(tmp_path / "mine", fullcycle_source=True)
    theirs = render(tmp_path / "theirs")
    for name in sorted(files(mine, OWNED)):
        a, b = (mine / name).read_text(), (theirs / name).read_text()
        if name == "dvc.yaml":
            assert a != b
            a, b = without_code_dependencies(a), without_code_dependencies(b)
        assert a == b, name
    assert "src/fullcycle" not in (theirs / "dvc.yaml").read_text()
    # a new project gets its own Makefile, README, pyproject, tests; no fullcycle source
    new = files(theirs) - files(mine)
    assert {"Makefile", "README.md", "pyproject.toml", "tests/test_project.py"} <= new
    assert not any(f.startswith("src/") for f in files(theirs))


@pytest.mark.timeout(300)
def test_the_wheel_ships_every_template_file(tmp_path):
    """`pip install fullcycle` from the index must carry the template, dotfiles included (built
    from a copy: pip builds in the source tree)."""
    source = tmp_path / "source"
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    shutil.copytree(REPO / "src", source / "src", ignore=skip)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    subprocess.run(
        [*build, "-w", str(tmp_path / "dist"), str(source)],
        check=True,
        capture_output=True,
    )
    wheel = next((tmp_path / "dist").glob("fullcycle-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    prefix = "fullcycle/template/"
    assert {n.removeprefix(prefix) for n in names if n.startswith(prefix)} == files(TEMPLATE)
