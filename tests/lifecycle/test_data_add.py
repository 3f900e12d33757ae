"""`fullcycle data add`: one validated, DVC-tracked, pushed data version per commit, or nothing."""

from __future__ import annotations

from pathlib import Path

import yaml

from fullcycle.cli import main
from fullcycle.core import params
from fullcycle.lifecycle import records


def remote_files(box) -> list[Path]:
    return [p for p in (box.base / "dvc-remote").rglob("*") if p.is_file()]


def test_adds_tracks_switches_params_commits_and_pushes(bare, news_csv, capsys):
    head = bare.git("rev-parse", "HEAD")
    assert main(["data", "add", str(news_csv), "--name", "reviews"]) == 0
    out = capsys.readouterr().out
    assert "200 rows, 5 classes" in out and "pushed to DVC remote 'store'" in out

    dvc_file = yaml.safe_load(Path("data/raw/reviews.csv.dvc").read_text())
    md5 = dvc_file["outs"][0]["md5"]
    subject = bare.git("log", "-1", "--format=%s")
    assert subject == f"data: reviews.csv — 200 rows, 5 classes, md5 {md5[:8]}"
    message = bare.git("log", "-1", "--format=%B")
    assert records.trailer(records.DATA, message) == {
        "path": "data/raw/reviews.csv",
        "rows": "200",
        "classes": "5",
        "md5": md5,
    }
    assert "business 40, entertainment 40" in message
    changed = set(bare.git("diff", "--name-only", head, "HEAD").splitlines())
    assert changed == {
        "conf/config.yaml",
        "conf/data/file.yaml",
        "params.yaml",
        "data/raw/.gitignore",
        "data/raw/reviews.csv.dvc",
    }
    assert bare.git("status", "--porcelain", "--untracked-files=no") == ""
    # params switched through conf/, so composing conf/ gives the committed params.yaml
    cfg = params.load()
    assert cfg.data.source == "file" and cfg.data.path == "data/raw/reviews.csv"
    assert params.compose() == yaml.safe_load(Path("params.yaml").read_text())
    assert "- data: file" in Path("conf/config.yaml").read_text()
    assert len(remote_files(bare)) == 1  # the file's content is in the DVC remote

    # the same file again: nothing new to record
    assert main(["data", "add", "data/raw/reviews.csv"]) == 0
    assert "already the current data version" in capsys.readouterr().out
    assert bare.git("log", "-1", "--format=%s") == subject


def test_invalid_file_changes_nothing(bare, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nfine text here,a\n,b\n")
    head = bare.git("rev-parse", "HEAD")
    assert main(["data", "add", str(bad)]) != 0
    err = capsys.readouterr().err
    assert "bad.csv, row 2, column 'text'" in err and "was not added" in err
    assert bare.git("rev-parse", "HEAD") == head
    assert bare.git("status", "--porcelain") == ""
    assert not Path("data/raw/bad.csv").exists()


def test_refuses_when_conf_has_uncommitted_changes(bare, news_csv, capsys):
    conf = Path("conf/config.yaml")
    conf.write_text(conf.read_text() + "\n# local edit\n")
    assert main(["data", "add", str(news_csv)]) != 0
    assert "conf/config.yaml has uncommitted changes" in capsys.readouterr().err
    assert not Path("data/raw/news.csv").exists()


def test_without_dvc_remote_commits_but_says_not_pushed(bare, news_csv, capsys):
    Path(".dvc/config.local").unlink()
    assert main(["data", "add", str(news_csv)]) == 0
    said = capsys.readouterr().out
    assert "no DVC remote configured, so not pushed" in said
    assert "`dvc remote add -d store <path or url>`, then `dvc push`" in said  # what to do next
    assert remote_files(bare) == []


def test_failure_after_tracking_restores_every_file(bare, news_csv, capsys):
    """A DVC remote that cannot be written: the push fails, and the add is rolled back."""
    conf_before = Path("conf/config.yaml").read_text()
    params_before = Path("params.yaml").read_text()
    remote = bare.base / "dvc-remote"
    remote.rmdir()
    remote.write_text("not a directory")
    assert main(["data", "add", str(news_csv)]) != 0
    err = capsys.readouterr().err
    assert "could not push to the DVC remote 'store' data/raw/news.csv" in err, err
    assert Path("conf/config.yaml").read_text() == conf_before
    assert Path("params.yaml").read_text() == params_before
    assert not Path("data/raw/news.csv").exists() and not Path("data/raw/news.csv.dvc").exists()
    assert bare.git("status", "--porcelain", "--untracked-files=no") == ""


def test_switch_params_keeps_comments_and_sets_columns(tmp_path, monkeypatch):
    import argparse
    import shutil

    from fullcycle.lifecycle.data_add import switch_params
    from tests.conftest import REPO

    shutil.copytree(REPO / "conf", tmp_path / "conf")
    monkeypatch.chdir(tmp_path)
    switch_params(
        Path("data/raw/tickets.tsv"), argparse.Namespace(text_col="body", label_col="queue")
    )
    option = Path("conf/data/file.yaml").read_text()
    assert "path: data/raw/tickets.tsv" in option and "text_col: body" in option
    assert "# Your own labelled data" in option  # the file's comments survive
    cfg = params.load()
    assert (cfg.data.source, cfg.data.path, cfg.data.text_col, cfg.data.label_col) == (
        "file",
        "data/raw/tickets.tsv",
        "body",
        "queue",
    )


def test_destination_keeps_a_plain_name_and_the_extension():
    import pytest

    from fullcycle.core.errors import FullcycleError
    from fullcycle.lifecycle.data_add import destination

    assert destination(Path("/x/a.csv"), None) == Path("data/raw/a.csv")
    assert destination(Path("/x/a.csv"), "v2") == Path("data/raw/v2.csv")
    with pytest.raises(FullcycleError, match="plain file name"):
        destination(Path("a.csv"), "../b.csv")
    with pytest.raises(FullcycleError, match="changes the file type"):
        destination(Path("a.csv"), "b.parquet")


def test_switch_params_writes_any_name_as_yaml(tmp_path, monkeypatch):
    """A YAML round-trip, not a regex: a column named `#x` is not a comment, a path holding `: `
    is not a mapping, and every comment in conf/ survives."""
    import argparse
    import shutil

    from fullcycle.lifecycle.data_add import switch_params
    from tests.conftest import REPO

    shutil.copytree(REPO / "conf", tmp_path / "conf")
    monkeypatch.chdir(tmp_path)
    comments = [ln for ln in Path("conf/config.yaml").read_text().splitlines() if "#" in ln]
    switch_params(
        Path("data/raw/export: 2024 #1.csv"),
        argparse.Namespace(text_col="#x", label_col="label: gold"),
    )
    cfg = params.load()
    assert (cfg.data.path, cfg.data.text_col, cfg.data.label_col) == (
        "data/raw/export: 2024 #1.csv",
        "#x",
        "label: gold",
    )
    assert params.compose() == yaml.safe_load(Path("params.yaml").read_text())
    config = Path("conf/config.yaml").read_text()
    assert "- data: file       # where the labelled texts come from" in config
    kept = [ln for ln in config.splitlines() if "#" in ln]
    assert len(kept) == len(comments)
