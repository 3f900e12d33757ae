"""The committed dvc.lock matches the code: a fresh clone's `dvc status` shows no changed
dependency or parameter (issue 10, item 1). `.ci/check_lock` is the check CI runs; real git and
DVC, no mocks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .conftest import REPO, git, run

CHECK = REPO / ".ci" / "check_lock"


def check(repo: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(CHECK), str(repo)], capture_output=True, text=True, timeout=300
    )


def test_the_committed_lock_matches_a_fresh_clone():
    """Fails while dvc.lock at HEAD is stale: regenerate it with `dvc repro` and commit it."""
    done = check(REPO)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_check_catches_a_stale_lock_and_allows_missing_outputs(tmp_path):
    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    (repo / "src" / "step.py").write_text("print('v1')\n")
    (repo / "params.yaml").write_text("step:\n  size: 1\n")
    (repo / "dvc.yaml").write_text(
        "stages:\n  step:\n    cmd: python src/step.py > out.txt\n"
        "    deps: [src]\n    params: [step.size]\n    outs: [out.txt]\n"
    )
    (repo / ".dvcignore").write_text((REPO / ".dvcignore").read_text())
    git(repo, "init", "-q", "-b", "main")
    run(repo, "dvc", "init", "-q")
    run(repo, "dvc", "repro")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "pipeline")
    done = check(repo)  # out.txt is not in the clone (a DVC output): that is fine
    assert done.returncode == 0 and "matches" in done.stdout, done.stderr

    # bytecode committed by mistake is not code; a changed module and param are
    (repo / "src" / "__pycache__").mkdir()
    (repo / "src" / "__pycache__" / "step.cpython-311.pyc").write_bytes(b"\x00")
    git(repo, "add", "-A", "-f")
    git(repo, "commit", "-qm", "bytecode")
    assert check(repo).returncode == 0

    (repo / "src" / "step.py").write_text("print('v2')\n")
    (repo / "params.yaml").write_text("step:\n  size: 2\n")
    git(repo, "commit", "-qam", "code without its lock")
    done = check(repo)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "step: deps src modified" in done.stderr and "step.size modified" in done.stderr
    assert "dvc repro" in done.stderr
