"""gitutil.undone_on_failure: what `data add`, `label import` and `traffic snapshot` rely on to
leave no trace when they fail half-way (a real git repository)."""

from __future__ import annotations

import subprocess

import pytest

from fullcycle.lifecycle.gitutil import git, undone_on_failure


@pytest.fixture
def repo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    subprocess.run(["git", "init", "-q"], check=True)
    (tmp_path / "kept.txt").write_text("before\n")
    git("add", "kept.txt")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    return tmp_path


def test_a_failure_restores_changed_files_removes_new_ones_and_unstages(repo):
    with pytest.raises(KeyboardInterrupt), undone_on_failure("kept.txt", "new.txt"):
        (repo / "kept.txt").write_text("after\n")
        (repo / "new.txt").write_text("new\n")
        git("add", "kept.txt", "new.txt")
        raise KeyboardInterrupt  # Ctrl-C half-way counts as a failure too
    assert (repo / "kept.txt").read_text() == "before\n" and not (repo / "new.txt").exists()
    assert git("status", "--porcelain") == ""


def test_success_keeps_what_the_block_wrote(repo):
    with undone_on_failure("kept.txt", "new.txt"):
        (repo / "kept.txt").write_text("after\n")
        (repo / "new.txt").write_text("new\n")
    assert (repo / "kept.txt").read_text() == "after\n" and (repo / "new.txt").is_file()
