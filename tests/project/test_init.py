"""`fullcycle init`: a new project repository from a labelled file, or the BBC example; bad input
is one clear error and leaves nothing behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from fullcycle import __version__
from fullcycle.cli import main
from tests.project.conftest import tickets_csv

FLAGS = ["--text-col", "message", "--label-col", "team"]


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=True
    ).stdout.strip()


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".init-" in p.name)


def test_a_project_from_a_csv_is_one_commit_that_depends_on_fullcycle(tmp_path, tickets, capsys):
    target = tmp_path / "support-router"
    assert main(["init", str(target), "--data", str(tickets), *FLAGS]) == 0
    assert "make repro" in capsys.readouterr().out
    assert git(target, "rev-list", "--count", "HEAD") == "1"
    assert git(target, "status", "--porcelain") == ""
    # the data: copied, tracked by DVC (git holds the pointer), validated (the commit says so)
    pointer = yaml.safe_load((target / "data/raw/tickets.csv.dvc").read_text())
    assert pointer["outs"][0]["path"] == "tickets.csv" and len(pointer["outs"][0]["md5"]) == 32
    assert (target / "data/raw/tickets.csv").read_bytes() == tickets.read_bytes()
    assert "tickets.csv" in (target / "data/raw/.gitignore").read_text()
    assert "150 rows in 3 classes" in git(target, "log", "-1", "--format=%B")
    # the data option filled in, params.yaml composed from it
    data = yaml.safe_load((target / "params.yaml").read_text())["data"]
    assert (data["source"], data["path"]) == ("file", "data/raw/tickets.csv")
    assert (data["text_col"], data["label_col"]) == ("message", "team")
    # fullcycle is a dependency, not copied code
    assert "fullcycle @ file://" in (target / "pyproject.toml").read_text()
    tracked = git(target, "ls-files").splitlines()
    assert [f for f in tracked if f.endswith(".py")] == ["tests/test_project.py"]
    for name in ("dvc.yaml", ".dvcignore", ".gitignore", ".pre-commit-config.yaml", "Makefile"):
        assert name in tracked
    assert {f for f in tracked if f.startswith(".github/workflows/")} == {
        f".github/workflows/{n}.yml" for n in ("ci", "monitor", "pipeline", "release", "retrain")
    }
    answers = yaml.safe_load((target / ".copier-answers.yml").read_text())
    assert answers["_commit"] == f"v{__version__}" and answers["data_file"] == "tickets.csv"
    lock = (target / "requirements.lock").read_text()
    assert "\ntorch==" in lock and "+cpu" not in lock and "\nfullcycle" not in lock


def test_relative_paths_are_read_from_where_the_command_runs(tmp_path, monkeypatch):
    """The project is built from another working directory: a relative --data still names the
    file the user meant (found by following the README as a new user would)."""
    (tmp_path / "here").mkdir()
    tickets = tickets_csv(tmp_path / "here" / "tickets.csv")
    monkeypatch.chdir(tmp_path / "here")
    assert main(["init", "../relative", "--data", "tickets.csv", *FLAGS]) == 0
    raw = tmp_path / "relative" / "data/raw/tickets.csv"
    assert raw.read_bytes() == tickets.read_bytes()


def test_the_bbc_example_needs_no_data_file(tmp_path):
    target = tmp_path / "news"
    target.mkdir()  # an empty folder is fine
    assert main(["init", str(target), "--example", "bbc"]) == 0
    assert yaml.safe_load((target / "params.yaml").read_text())["data"]["source"] == "bbc"
    assert not list((target / "data/raw").glob("*.dvc"))
    assert git(target, "status", "--porcelain") == ""


def test_any_column_name_and_the_settings_given_land_in_conf(tmp_path, tickets):
    """conf/ is edited as YAML (ruamel), so names that need quoting compose back unchanged."""
    import pandas as pd

    odd = tmp_path / "odd names.csv"
    table = pd.read_csv(tickets).rename(columns={"message": "body #1", "team": "topic: main"})
    table.to_csv(odd, index=False)
    args = ["--text-col", "body #1", "--label-col", "topic: main", "--on-conflict", "majority"]
    args += ["--labels", "account,billing,shipping"]
    assert main(["init", str(tmp_path / "p"), "--data", str(odd), *args]) == 0
    data = yaml.safe_load((tmp_path / "p/params.yaml").read_text())["data"]
    assert (data["path"], data["text_col"]) == ("data/raw/odd names.csv", "body #1")
    assert (data["label_col"], data["on_conflict"]) == ("topic: main", "majority")
    assert data["labels"] == ["account", "billing", "shipping"]
    done = subprocess.run(
        [sys.executable, "-m", "fullcycle.cli", "params", "--check"],
        cwd=tmp_path / "p",
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_plan_given_is_recorded_in_conf(tmp_path, tickets):
    plan = ["--goal-metric", "test.f1_macro", "--goal-target", "0.9", "--train-minutes", "12"]
    plan += ["--gpu", "--gate-rule", "non_inferior", "--gate-margin", "0.01"]
    assert main(["init", str(tmp_path / "p"), "--data", str(tickets), *FLAGS, *plan]) == 0
    composed = yaml.safe_load((tmp_path / "p/params.yaml").read_text())
    assert composed["plan"]["goal"] == {"metric": "test.f1_macro", "target": 0.9}
    assert composed["plan"]["budget"]["train_minutes"] == 12
    assert composed["plan"]["budget"]["gpu"] is True
    assert (composed["promote"]["rule"], composed["promote"]["margin"]) == ("non_inferior", 0.01)
    assert "# the value it aims at" in (tmp_path / "p/conf/plan/default.yaml").read_text()


def bad_csv(path: Path) -> Path:
    path.write_text("message,team\nhello there,billing\n,billing\n")
    return path


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("not empty", "already exists and is not an empty folder"),
        ("invalid data", "no project was created"),
        ("no such file", "no such file"),
        ("unknown example", "--example nope: no such example (there is: bbc)"),
        ("unwritable", "cannot write in /proc"),
        ("no parent", "does not exist: create it first"),
        ("data and example", "either --data FILE"),
        ("bad plan", "plan.goal.target = 1.5: must be a number in (0, 1]"),
    ],
)
def test_bad_input_is_one_error_and_leaves_nothing(tmp_path, tickets, capsys, case, expected):
    target = tmp_path / "new"
    args = ["init", str(target), "--data", str(tickets), *FLAGS]
    if case == "not empty":
        target.mkdir()
        (target / "notes.txt").write_text("mine")
    elif case == "invalid data":
        args = ["init", str(target), "--data", str(bad_csv(tmp_path / "bad.csv")), *FLAGS]
    elif case == "no such file":
        args = ["init", str(target), "--data", str(tmp_path / "missing.csv")]
    elif case == "unknown example":
        args = ["init", str(target), "--example", "nope"]
    elif case == "unwritable":
        target = Path("/proc/fullcycle-project")
        args = ["init", str(target), "--example", "bbc"]
    elif case == "no parent":
        target = tmp_path / "a" / "b"
        args = ["init", str(target), "--example", "bbc"]
    elif case == "data and example":
        args.append("--example=bbc")
    elif case == "bad plan":
        args += ["--goal-target", "1.5"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert expected in err, err
    assert err.count("error:") == 1
    if case == "not empty":
        assert [p.name for p in target.iterdir()] == ["notes.txt"]
    elif case != "unwritable":
        assert not target.exists()
    assert leftovers(tmp_path) == []


def test_the_invalid_file_names_its_problems(tmp_path, capsys):
    assert main(["init", str(tmp_path / "p"), "--data", str(bad_csv(tmp_path / "b.csv")), *FLAGS])
    err = capsys.readouterr().err
    assert "problem(s) found in the input data" in err and "empty" in err.lower()


def test_a_failure_while_building_removes_the_half_made_project(tmp_path, tickets, monkeypatch):
    from fullcycle.project import init

    def broken() -> str:
        raise OSError("disk full")

    monkeypatch.setattr(init, "lock_text", broken)
    with pytest.raises(OSError, match="disk full"):
        init.cli_init(
            init_args(str(tmp_path / "p"), data=str(tickets), text_col="message", label_col="team")
        )
    assert not (tmp_path / "p").exists() and leftovers(tmp_path) == []


def init_args(dir: str, **values: object):
    from fullcycle.cli import build_parser

    args = build_parser().parse_args(["init", dir])
    for key, value in values.items():
        setattr(args, key, value)
    return args
