"""A real lifecycle sandbox: a project repo with a bare git `origin` and a local DVC remote.

Layout under one folder (all links between them relative, so a copy is an independent sandbox):
  project/   the git repo (cwd of the tests), `origin` -> ../origin.git, DVC remote -> ../dvc-remote
  origin.git the bare remote standing in for GitHub's git side
  dvc-remote the DVC remote
The expensive part (data add + two `dvc exp run`s) is built once per test run, shared by the
pytest-xdist workers; tests take a copy.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import built_once, make_project, run
from tests.conftest import git as git_in
from tests.lifecycle.fake_github import FakeGitHub

# The tiny profile as `dvc exp run` flags: each run recomposes conf/ into params.yaml (hydra).
EXP_FLAGS = ["-S", "model=tiny", "-S", "trainer.max_epochs=1"]
# Up to evaluate: packaging a bento per experiment is release's job, not the experiment's.
EXP_TARGETS = ["evaluate"]


@dataclass
class Sandbox:
    base: Path

    @property
    def root(self) -> Path:
        return self.base / "project"

    @property
    def origin(self) -> Path:
        return self.base / "origin.git"

    def git(self, *args: str) -> str:
        return git_in(self.root, *args)

    def origin_git(self, *args: str) -> str:
        return git_in(self.origin, *args)

    def copy(self, dest: Path) -> Sandbox:
        shutil.copytree(self.base, dest, symlinks=True)
        return Sandbox(dest)


def small_csv(path: Path, per_class: int = 40, seed: int = 0) -> Path:
    """A labelled CSV drawn from the BBC corpus: `per_class` rows of each of the 5 topics."""
    from fullcycle.core.sources import read_bbc_news

    table = read_bbc_news().drop_duplicates("text").sample(frac=1.0, random_state=seed)
    sample = table.groupby("label").head(per_class).sort_values("label")
    pd.DataFrame({"text": sample["text"], "label": sample["label"]}).to_csv(path, index=False)
    return path


def set_gate(root: Path, **values: object) -> None:
    """Edit conf/promote/default.yaml, recompose params.yaml and commit both (the gate is read
    from the base branch's committed params)."""
    from fullcycle.core import params
    from fullcycle.lifecycle import conf

    for key, value in values.items():
        conf.set_value(root / "conf/promote/default.yaml", key, value)
    params.write(root / "params.yaml", root / "conf")
    git_in(root, "commit", "-qam", f"promotion gate: {values}")


def results_in_git(root: Path) -> None:
    """Metrics, the data summary and the model card as `cache: false` outputs (committed with
    dvc.lock), as the project's dvc.yaml declares them; a no-op where it already does."""
    import yaml

    path = root / "dvc.yaml"
    pipeline = yaml.safe_load(path.read_text())
    small = (
        "reports/eval/metrics.json",
        "reports/baseline/metrics.json",
        "reports/data/summary.json",
        "reports/model_card.md",
        "reports/eval/confusion.json",
        "reports/drift/summary.json",
    )
    for stage in pipeline["stages"].values():
        for kind in ("outs", "metrics", "plots"):
            entries = stage.get(kind) or []
            for i, entry in enumerate(entries):
                name = entry if isinstance(entry, str) else next(iter(entry))
                if name in small:
                    spec = {} if isinstance(entry, str) else dict(entry[name] or {})
                    entries[i] = {name: spec | {"cache": False}}
    path.write_text(yaml.safe_dump(pipeline, sort_keys=False))


def make_sandbox(base: Path) -> Sandbox:
    box = Sandbox(base)
    root = make_project(box.root, overrides=[])
    results_in_git(root)
    if git_in(root, "status", "--porcelain"):
        git_in(root, "commit", "-qam", "results live in git")
    # The tiny model cannot beat TF-IDF: the sandbox lets any candidate past the baseline rule
    # (the gate's rules have their own tests).
    set_gate(root, baseline_margin=-1.0)
    git_in(base, "init", "-q", "--bare", "-b", "main", "origin.git")
    git_in(root, "remote", "add", "origin", "../origin.git")
    git_in(root, "push", "-q", "origin", "main")
    (base / "dvc-remote").mkdir()
    run(root, "dvc", "remote", "add", "--local", "-d", "store", "../dvc-remote")
    return box


@pytest.fixture(scope="session")
def news_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid labelled CSV: 40 BBC articles of each of the 5 topics."""
    return small_csv(tmp_path_factory.mktemp("data") / "news.csv")


@pytest.fixture
def bare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """A fresh sandbox (no data added, no experiments), cwd in its project."""
    box = make_sandbox(tmp_path / "sandbox")
    monkeypatch.chdir(box.root)
    return box


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory, news_csv: Path) -> Sandbox:
    """A sandbox after `fullcycle data add` and two experiments: `good` and `weak` (lower lr).
    Built once per test run and shared by every worker: tests take a copy (`sandbox`)."""

    def build(folder: Path) -> None:
        box = make_sandbox(folder / "sandbox")
        run(box.root, "fullcycle", "data", "add", str(news_csv))
        for name, lr in (("good", "0.0001"), ("weak", "0.00001")):
            run(
                box.root,
                "dvc",
                "exp",
                "run",
                "-q",
                "-n",
                name,
                *EXP_FLAGS,
                "-S",
                f"train.lr={lr}",
                *EXP_TARGETS,
            )
        # `dvc exp run` leaves the last experiment applied to the workspace; back to main's state
        run(box.root, "git", "reset", "-q", "--hard")
        run(box.root, "git", "clean", "-qfd")

    return Sandbox(built_once(tmp_path_factory, "lifecycle", build) / "sandbox")


@pytest.fixture
def sandbox(trained: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """A private copy of the trained sandbox, with cwd in its project."""
    box = trained.copy(tmp_path / "sandbox")
    monkeypatch.chdir(box.root)
    for var in ("GITHUB_TOKEN", "GITHUB_API_URL", "GITHUB_REPOSITORY", "GITHUB_EVENT_PATH"):
        monkeypatch.delenv(var, raising=False)
    return box


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    """The fake GitHub API, with GITHUB_* pointing at it."""
    with FakeGitHub() as fake:
        for key, value in fake.env().items():
            monkeypatch.setenv(key, value)
        yield fake
