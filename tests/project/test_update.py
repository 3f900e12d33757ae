"""`fullcycle init --update`: a project made from an older template takes the newer one through
copier update (three-way): fullcycle's files change, the project's own values and data stay, and a
conflict is shown and left for a person, never resolved silently. Two real template versions in a
real git store; the older one is this template with three edits undone."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from fullcycle.project import init, store
from fullcycle.project.data import DataFile
from fullcycle.project.update import update_project

OLD = "0.0.1"
CI = "project/.github/workflows/ci.yml"
TRAIN = "project/conf/train/default.yaml"


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=True
    ).stdout.strip()


def older_template(dest: Path) -> Path:
    """fullcycle's template as an older release had it: a shorter CI timeout, another comment on
    gradient clipping, and no `tune/quick` option."""
    shutil.copytree(store.TEMPLATE_DIR, dest, ignore=shutil.ignore_patterns("__pycache__"))
    ci = dest / CI
    ci.write_text(ci.read_text().replace("timeout-minutes: 45", "timeout-minutes: 30"))
    train = dest / TRAIN
    text = train.read_text()
    assert "\ngrad_clip: 1.0\n" in text
    train.write_text(text.replace("\ngrad_clip: 1.0\n", "\ngrad_clip: 1.0   # max gradient norm\n"))
    (dest / "project/conf/tune/quick.yaml").unlink()
    return dest


@pytest.fixture
def old_project(tmp_path, tickets) -> Path:
    """A project made by the older release, whose owner then changed the learning rate."""
    tag = store.ensure_version(OLD, older_template(tmp_path / "old-template"))
    assert tag == f"v{OLD}"
    answers = init.Answers(project_name="p", data_file="tickets.csv", text_col="message")
    answers.label_col = "team"
    data = DataFile(tickets, "tickets.csv", "message", "team", None, "error", "150 rows")
    root = init.init_project(tmp_path / "p", answers, data, tag=tag)
    set_lr(root, "5.0e-05")
    return root


def set_lr(root: Path, value: str) -> None:
    from fullcycle.core import params
    from fullcycle.lifecycle import conf

    conf.set_value(root / "conf/train/default.yaml", "lr", float(value))
    params.write(root / "params.yaml", root / "conf")
    git(root, "commit", "-qam", f"lr {value}")


def test_the_newer_template_merges_and_the_projects_values_stay(old_project, capsys):
    root, before = old_project, git(old_project, "rev-parse", "HEAD")
    assert update_project(root) == 0
    assert "updated to fullcycle's template v0.1.0 (was v0.0.1)" in capsys.readouterr().out
    # fullcycle's files changed
    assert "timeout-minutes: 45" in (root / ".github/workflows/ci.yml").read_text()
    assert (root / "conf/tune/quick.yaml").is_file()
    train = (root / "conf/train/default.yaml").read_text()
    assert "# max gradient norm" not in train
    # the project's own value, its data and its params stay
    assert yaml.safe_load(train)["lr"] == 5e-05
    assert yaml.safe_load((root / "params.yaml").read_text())["train"]["lr"] == 5e-05
    assert (root / "data/raw/tickets.csv.dvc").is_file()
    assert yaml.safe_load((root / ".copier-answers.yml").read_text())["_commit"] == "v0.1.0"
    # one commit, nothing left over
    assert git(root, "rev-list", "--count", f"{before}..HEAD") == "1"
    assert git(root, "status", "--porcelain") == ""
    assert update_project(root) == 0  # again: nothing to do
    assert "already at" in capsys.readouterr().out


def test_a_conflict_is_shown_and_left_unresolved(old_project, capsys):
    root = old_project
    ci = root / ".github/workflows/ci.yml"
    ci.write_text(ci.read_text().replace("timeout-minutes: 30", "timeout-minutes: 20"))
    git(root, "commit", "-qam", "a shorter CI timeout")
    head = git(root, "rev-parse", "HEAD")
    assert update_project(root) == 1
    out = capsys.readouterr().out
    assert (
        "with conflicts in:\n  .github/workflows/ci.yml" in out and "Nothing was committed" in out
    )
    text = ci.read_text()
    assert "<<<<<<<" in text and "timeout-minutes: 20" in text and "timeout-minutes: 45" in text
    assert git(root, "rev-parse", "HEAD") == head


def test_an_update_needs_a_clean_tree_and_a_project(old_project, tmp_path):
    from fullcycle.core.errors import FullcycleError

    (old_project / "conf/train/default.yaml").write_text("edited\n")
    with pytest.raises(FullcycleError, match="uncommitted changes"):
        update_project(old_project)
    plain = tmp_path / "plain"
    plain.mkdir()
    git(plain, "init", "-q")
    with pytest.raises(FullcycleError, match="updates a project made by `fullcycle init`"):
        update_project(plain)


def test_offline_the_older_version_comes_from_a_clone_of_fullcycle(
    old_project, tmp_path, monkeypatch
):
    """A machine whose store never held the project's version: it names the way out, and a local
    clone of fullcycle's repository at the release tag provides it."""
    from fullcycle.core.errors import FullcycleError

    other = tmp_path / "other-store"
    shutil.copytree(store.store_path(), other)  # the same recorded path, but a fresh store:
    shutil.rmtree(store.store_path())  # as on a machine where only v0.1.0 was ever installed
    with pytest.raises(FullcycleError, match="--template-repo PATH"):
        update_project(old_project)
    repo = tmp_path / "fullcycle-clone"
    older_template(repo / "src/fullcycle/template")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "release")
    git(repo, "tag", f"v{OLD}")
    assert update_project(old_project, template_repo=str(repo)) == 0
    assert "timeout-minutes: 45" in (old_project / ".github/workflows/ci.yml").read_text()
