"""`fullcycle history`: data versions, promotions, releases and stages read back from git."""

from __future__ import annotations

import json
import os
from pathlib import Path

from fullcycle.cli import main
from fullcycle.lifecycle import records
from tests.conftest import git


def lifecycle_repo(root: Path) -> Path:
    """A repo with one of each event, written with the same records the commands write."""
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "t")
    git(root, "config", "user.email", "t@t")
    env_date = "2026-01-0{}T10:00:00+00:00"

    def commit(message: str, day: int) -> str:
        os.environ["GIT_COMMITTER_DATE"] = os.environ["GIT_AUTHOR_DATE"] = env_date.format(day)
        git(root, "commit", "-q", "--allow-empty", "-m", message)
        return git(root, "rev-parse", "HEAD")

    try:
        commit("project", 1)
        commit("unrelated change\n\nmentions Fullcycle-Data: in the body, not as a trailer", 2)
        commit(records.DataVersion("data/raw/news.csv", 200, 5, "d" * 32).message("body"), 3)
        commit(records.Promotion("good", "abc123", "test.f1_macro", 0.91, None, 0.88).message(), 4)
        head = commit("Merge promote/good", 5)
        os.environ["GIT_COMMITTER_DATE"] = env_date.format(6)
        release = records.Release("classifier", "v0.1.0", {"test.f1_macro": 0.91, "test.rows": 30})
        git(root, "tag", "-a", "classifier@v0.1.0", "-m", release.message(), head)
        os.environ["GIT_COMMITTER_DATE"] = env_date.format(7)
        git(root, "tag", "-a", "classifier#prod#1", "-m", "Assigning stage prod", head)
        git(root, "tag", "v1.0-not-a-registry-tag", head)
    finally:
        for var in ("GIT_COMMITTER_DATE", "GIT_AUTHOR_DATE"):
            os.environ.pop(var, None)
    return root


def test_history_table(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(lifecycle_repo(tmp_path / "repo"))
    assert main(["history"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["date", "event", "what", "commit", "metrics"]
    rows = lines[2:]
    assert [r.split()[2] for r in rows] == ["data", "promotion", "release", "stage"]
    assert "data/raw/news.csv: 200 rows, 5 classes, md5 dddddddd" in rows[0]
    assert (
        "experiment good" in rows[1] and "test.f1_macro 0.9100 (main —, baseline 0.8800)" in rows[1]
    )
    assert "classifier v0.1.0" in rows[2] and "test.f1_macro 0.9100 test.rows 30" in rows[2]
    assert "classifier v0.1.0 → prod" in rows[3] and "test.f1_macro 0.9100" in rows[3]


def test_history_json_and_limit(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(lifecycle_repo(tmp_path / "repo"))
    assert main(["history", "--json", "--limit", "2"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["kind"] for e in events] == ["release", "stage"]
    assert events[0]["date"] == "2026-01-06T10:00:00+00:00"


def test_history_of_a_repo_without_events(tmp_path, monkeypatch, capsys):
    root = tmp_path / "empty"
    root.mkdir()
    git(root, "init", "-q")
    monkeypatch.chdir(root)
    assert main(["history"]) == 0
    assert "no lifecycle events yet" in capsys.readouterr().out


def test_history_outside_git_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["history"]) != 0
    assert "is not inside a git repository" in capsys.readouterr().err
