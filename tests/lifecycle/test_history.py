"""`fullcycle history`: data versions, promotions, releases and stages read back from git."""

from __future__ import annotations

import json
import os
from pathlib import Path

from fullcycle.cli import main
from fullcycle.core import params
from fullcycle.lifecycle import records
from tests.conftest import REPO, git

RAW = "data/raw/reviews.csv"


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


def long_events_repo(root: Path) -> Path:
    """Events with the long cells real projects have: a traffic batch, a label import, a release
    carrying every headline test metric."""
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    snapshot = records.TrafficSnapshot(
        "data/production/2026-01-02_1000.parquet",
        300,
        "2026-01-01T10:00:00+00:00",
        "2026-01-02T09:59:00+00:00",
        "fullcycle-classifier-v0.1.0,fullcycle-classifier-v0.2.0",
    )
    labels = records.LabelImport(
        "exports/project-7-at-2026-01-02-10-00-3f2a.json",
        "data/raw/labelled/project-7-at-2026-01-02-10-00-3f2a.csv",
        200,
        "e" * 32,
    )
    for message in (
        records.DataVersion("data/raw/customer-reviews-2026-q1.csv", 12000, 7, "d" * 32).message(),
        snapshot.message(),
        labels.message(),
        records.Promotion(
            "retrain-with-the-first-labelled-batch", "abc1234", "test.f1_macro", 0.9123, 0.9, 0.8
        ).message(),
    ):
        git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty",
            "-m", message)  # fmt: skip
    metrics = {f"test.{k}": 0.9123 for k in ("accuracy", "f1_macro", "precision", "recall")}
    release = records.Release("classifier", "v0.2.0", metrics | {"test.rows": 532})
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "tag", "-a", "classifier@v0.2.0",
        "-m", release.message())  # fmt: skip
    return root


def test_history_fits_the_terminal_width(tmp_path, monkeypatch, capsys):
    import sys

    monkeypatch.chdir(long_events_repo(tmp_path / "repo"))
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["history"]) == 0  # into a pipe (capsys): whole lines, whatever COLUMNS says
    whole = capsys.readouterr().out.splitlines()
    assert len(whole) == 2 + 5 and max(map(len, whole)) > 120
    assert main(["history", "--json"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    # cells that wrap with nothing beside them: a path-like `what`, a release's metrics
    whole_cells = [e["what"] for e in events if not e["metrics"]]
    whole_cells += [e["metrics"] for e in events if e["kind"] == "release"]
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)  # now a terminal, COLUMNS wide
    for columns in (120, 80):
        monkeypatch.setenv("COLUMNS", str(columns))
        assert main(["history"]) == 0
        out = capsys.readouterr().out
        assert max(len(line) for line in out.splitlines()) <= columns, out
        assert "test.precision 0.9123" in out  # a metric's name stays next to its value
        for event in events:  # the commit column sits between `what` and `metrics`
            out = out.replace(event["commit"], "")
        squeezed = "".join(out.split())  # wrapped, not cut: every cell is there in full
        for cell in whole_cells:
            assert "".join(cell.split()) in squeezed, cell


def data_repo(root: Path) -> tuple[Path, str]:
    """A clone of the template: its own BBC promotion and release, then the user's data (params
    switched to the file, its .dvc file committed) and the user's promotion. Returns the data
    commit."""
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "t")
    git(root, "config", "user.email", "t@t")

    def commit(day: int, message: str, *paths: str) -> str:
        os.environ["GIT_COMMITTER_DATE"] = os.environ["GIT_AUTHOR_DATE"] = f"2026-01-0{day}T10:00"
        git(root, "add", *paths) if paths else None
        git(root, "commit", "-q", "--allow-empty", "-m", message)
        return git(root, "rev-parse", "HEAD")

    try:
        params.write(root / "params.yaml", REPO / "conf")  # conf/ composed: the BBC corpus
        template = records.Promotion("bbc-0-full", "af0e709", "m", 0.963, 0.96, 0.95)
        commit(1, template.message(), "params.yaml")
        release = records.Release("classifier", "v0.1.0", {"test.f1_macro": 0.963})
        git(root, "tag", "-a", "classifier@v0.1.0", "-m", release.message())
        params.write(root / "params.yaml", REPO / "conf", ["data=file", f"data.path={RAW}"])
        (root / "data/raw").mkdir(parents=True)
        (root / "data/raw/reviews.csv.dvc").write_text("outs:\n- md5: " + "d" * 32 + "\n")
        version = records.DataVersion("data/raw/reviews.csv", 200, 2, "d" * 32)
        data = commit(2, version.message(), "params.yaml", "data")
        commit(3, "README: our project")
        commit(4, records.Promotion("lr-3e-5", "b" * 7, "m", 0.9, None, 0.8).message())
    finally:
        for var in ("GIT_COMMITTER_DATE", "GIT_AUTHOR_DATE"):
            os.environ.pop(var, None)
    return root, data


def test_history_since_the_data_leaves_out_the_templates_events(tmp_path, monkeypatch, capsys):
    root, data = data_repo(tmp_path / "repo")
    monkeypatch.chdir(root)
    assert main(["history", "--json"]) == 0
    kinds = [json.loads(line)["kind"] for line in capsys.readouterr().out.splitlines()]
    assert kinds == ["promotion", "release", "data", "promotion"]  # the template's first
    for flags in (["--since-data"], ["--since", data[:7]]):
        assert main(["history", "--json", *flags]) == 0
        events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert [e["kind"] for e in events] == ["data", "promotion"], flags
        assert events[1]["what"] == "experiment lr-3e-5"
    assert main(["history", "--since", "no-such-rev"]) == 2
    assert "--since no-such-rev: no such commit" in capsys.readouterr().err


def test_history_since_data_on_the_builtin_data_says_what_to_do(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(lifecycle_repo(tmp_path / "repo"))  # no params.yaml: the built-in data
    assert main(["history", "--since-data"]) == 2
    assert "fullcycle data add FILE" in capsys.readouterr().err
