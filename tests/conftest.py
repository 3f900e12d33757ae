"""Shared fixtures: a real, small fullcycle project in a temporary git repository.

Tests compose the real conf/ and shrink it (tiny model, few rows, one epoch, CPU) instead of mocking,
as lightning-hydra-template does.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the venv's bin: fullcycle, dvc, bentoml
PROJECT_FILES = [
    "conf",
    "src",
    "data/raw/README.md",
    "data/production/README.md",  # the monitor stage depends on data/production
    "dvc.yaml",
    "params.yaml",
    ".dvc/config",
    ".dvcignore",
    ".gitignore",
    "bentofile.yaml",
]

# Small enough for seconds, big enough for every split to hold every class (and the production
# slice to hold the 30 texts the drift checks need: BBC's default 5% of 40 rows a class is 2).
SMALL = ["model=tiny", "data.max_per_class=40", "trainer.max_epochs=1"]
SMALL += ["data.split.test=0.15", "data.split.production=0.15"]

# The slowest test files, slowest first (`--durations`: each file's setup, calls and teardown). With
# `--dist loadfile` each file is a unit of work that pytest-xdist hands to the next free worker in
# collection order, so these go first and the quick ones fill in at the end: a long file started
# last would leave the other worker idle (xdist's own order, most tests first, put the two
# slowest files, of one test each, last). The rest follow, most tests first.
SLOWEST_FIRST = [
    "tests/lifecycle/test_e2e.py",  # also the pipeline's contract, on its `dvc repro`/`dvc exp run`
    "tests/project/test_new_user.py",  # `fullcycle init`, then a whole `make repro` and `make test`
    "tests/lifecycle/test_promote.py",  # builds the lifecycle sandbox the next ones copy
    "tests/lifecycle/test_release.py",
    "tests/lifecycle/test_experiments.py",
    "tests/serve/test_runtime.py",
    "tests/train/test_stage.py",
    "tests/serve/test_package.py",
    "tests/monitor/test_stage.py",
    "tests/explain/test_stage.py",
    "tests/monitor/test_kinds.py",
    "tests/monitor/test_checks.py",
    "tests/serve/test_batching.py",
    "tests/test_pipeline.py",
    "tests/serve/test_service.py",
    "tests/optimize/test_stage.py",
    "tests/serve/test_capture.py",
    "tests/train/test_lora.py",
    "tests/label/test_label.py",
    "tests/explain/test_service.py",
    "tests/serve/test_limits.py",
    "tests/lifecycle/test_report.py",
    "tests/test_baseline.py",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files in SLOWEST_FIRST order, then the others, most tests first; a file's tests keep
    their order (pyproject.toml's addopts turn xdist's own reordering off)."""
    rank = {name: i for i, name in enumerate(SLOWEST_FIRST)}
    count = Counter(item.nodeid.split("::", 1)[0] for item in items)

    def key(item: pytest.Item) -> tuple[int, int, str]:
        name = item.nodeid.split("::", 1)[0]
        return rank.get(name, len(rank)), -count[name], name

    items.sort(key=key)  # stable: a file's tests keep their order


@pytest.fixture(autouse=True, scope="session")
def _offline_env(tmp_path_factory: pytest.TempPathFactory) -> None:
    """No tool phones home, nothing writes to the user's home, subprocesses find our CLIs."""
    os.environ.update(
        HF_HUB_OFFLINE="1",
        DVC_NO_ANALYTICS="1",
        BENTOML_DO_NOT_TRACK="true",
        DO_NOT_TRACK="1",
        BENTOML_HOME=str(tmp_path_factory.mktemp("bentoml_home")),
        GIT_AUTHOR_NAME="fullcycle tests",
        GIT_AUTHOR_EMAIL="tests@fullcycle.local",
        GIT_COMMITTER_NAME="fullcycle tests",
        GIT_COMMITTER_EMAIL="tests@fullcycle.local",
    )
    os.environ["PATH"] = f"{BIN}{os.pathsep}{os.environ['PATH']}"
    if os.environ.get("PYTEST_XDIST_WORKER"):  # one pytest-xdist worker per core (`-n auto`):
        # one torch/ONNX Runtime thread each, here and in the stages they start, or the workers'
        # threads fight over the cores (the tiny model gains nothing from a second thread)
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        import torch

        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))


def git(cwd: Path, *args: str) -> str:
    """Run git in `cwd`, failing the test with git's own message if it fails."""
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, f"git {' '.join(args)} failed:\n{done.stderr}"
    return done.stdout.strip()


def run(
    cwd: Path, *cmd: str, check: bool = True, timeout: float = 600
) -> subprocess.CompletedProcess:
    """Run a command (fullcycle, dvc, ...) in `cwd` and return the finished process."""
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if check:
        assert done.returncode == 0, (
            f"{' '.join(cmd)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        )
    return done


def make_project(root: Path, overrides: list[str] | None = None) -> Path:
    """Copy the project's pipeline files into `root`, compose params with `overrides`, and make it
    a git repository with one commit (what `dvc exp run` needs)."""
    from fullcycle.core import params

    root.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in PROJECT_FILES:
        src, dst = REPO / name, root / name
        if src.is_dir():
            shutil.copytree(src, dst, ignore=ignore)
        elif src.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    (root / ".dvc" / ".gitignore").write_text("/config.local\n/tmp\n/cache\n")
    params.write(root / "params.yaml", root / "conf", overrides)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "fullcycle tests")
    git(root, "config", "user.email", "tests@fullcycle.local")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "project")
    return root


@pytest.fixture
def project_factory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """make_project in a fresh temp dir, with the current directory switched into it."""

    def factory(overrides: list[str] | None = None, name: str = "project") -> Path:
        root = make_project(tmp_path / name, SMALL if overrides is None else overrides)
        monkeypatch.chdir(root)
        return root

    return factory


@pytest.fixture
def project(project_factory: Callable[..., Path]) -> Iterator[Path]:
    """A small project (tiny model, 40 rows per class, 1 epoch) as a git repo; cwd inside it."""
    yield project_factory()


@contextlib.contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    import torch

    before, env = torch.get_num_threads(), os.environ.get("OMP_NUM_THREADS")
    torch.set_num_threads(n)
    os.environ["OMP_NUM_THREADS"] = str(n)  # for subprocesses: fullcycle under dvc repro
    try:
        yield
    finally:
        torch.set_num_threads(before)
        if env is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = env


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Torch on one thread: the tiny model's matrices are too small to gain from a second one, and
    on a busy 2-core machine two threads wait on each other (measured: 7x slower per step)."""
    with _torch_threads(1):
        yield


def shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of this test run that every pytest-xdist worker sees (the run's base temporary
    folder; each worker's own is a sub-folder of it); without xdist, the session's own."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def built_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], object]
) -> Path:
    """The folder `name` of the run's shared folder, made by `build(folder)` once per test run:
    the first worker to ask builds it under a file lock, the others wait for it, then all use
    it. Shared by every worker: treat it as read-only (copy it to change it)."""
    from filelock import FileLock

    shared = shared_dir(tmp_path_factory)
    folder, built = shared / name, shared / f"{name}.built"
    with FileLock(shared / f"{name}.lock"):
        if not built.exists():
            if folder.exists():  # a build that failed half-way: start over
                shutil.rmtree(folder)
            build(folder)
            built.touch()
    return folder


def copy_project(source: Path, dest: Path) -> Path:
    """A private copy of a built project (its git repository, DVC cache and outputs), links kept
    as links and times as they were: DVC sees the same up-to-date pipeline."""
    shutil.copytree(source, dest, symlinks=True)
    return dest


@pytest.fixture(scope="session")
def tiny_repro(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small project (tiny model, 40 rows per class, 1 epoch) after a real `dvc repro train`
    (prepare, then train), built once per test run: a git repository whose dvc.lock and DVC cache
    (.dvc/cache, inside it) say the pipeline is up to date to the model. Shared by every worker:
    read it, or take a private copy with copy_project."""

    def build(folder: Path) -> None:
        root = make_project(folder / "project", SMALL)
        with pytest.MonkeyPatch.context() as env:
            env.setenv("OMP_NUM_THREADS", "1")  # torch in subprocesses: 2 threads crawl on 2 cores
            run(root, "dvc", "repro", "train", timeout=300)

    return built_once(tmp_path_factory, "tiny-repro", build) / "project"


@pytest.fixture(scope="session")
def trained_model(tiny_repro: Path) -> Path:
    """The tiny model trained once per test run through the real prepare and train stages (40
    rows per class, 1 epoch): tiny_repro's models/classifier/ directory. Shared: read-only."""
    return tiny_repro / "models" / "classifier"


@pytest.fixture(scope="session")
def optimized_model(tiny_repro: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The optimize stage run once per test run on the trained tiny model, in a copy of its
    project: the models/optimized/ directory (ONNX model, tokenizer, manifest). Shared: treat it
    as read-only."""
    from fullcycle.core import params
    from fullcycle.optimize import stage

    def build(folder: Path) -> None:
        root = copy_project(tiny_repro, folder / "project")
        with contextlib.chdir(root), _torch_threads(1):
            stage.run(params.load())

    return built_once(tmp_path_factory, "optimized", build) / "project" / "models" / "optimized"


@pytest.fixture(scope="session")
def optimized_fp32(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """models/optimized/ with the fp32 variant (optimize.preference=[fp32]): ONNX Runtime with
    scores that do not depend on batch-mates (int8's per-batch activation scale makes them move
    by ~1e-4, as much as the tiny model's scores differ between texts). Built once per test run."""
    from omegaconf import OmegaConf

    from fullcycle.core import params
    from fullcycle.optimize import stage

    def build(root: Path) -> None:
        source = trained_model.parents[1]
        shutil.copytree(source / "models" / "classifier", root / "models" / "classifier")
        shutil.copytree(source / "data" / "processed", root / "data" / "processed")
        cfg = params.load(source / "params.yaml")
        cfg.optimize.preference = ["fp32"]
        with contextlib.chdir(root), _torch_threads(1):
            stage.run(OmegaConf.create(cfg))

    return built_once(tmp_path_factory, "fp32", build) / "models" / "optimized"


LABELS = ["business", "entertainment", "politics", "sports", "tech"]


@pytest.fixture(scope="session")
def random_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random tiny BERT saved as a model directory: export, pruning and window tests need real
    logits (the session's trained tiny model predicts near-uniform probabilities)."""
    import torch
    from omegaconf import OmegaConf

    from fullcycle.core import classifier

    torch.manual_seed(0)
    cfg = OmegaConf.load(REPO / "conf" / "model" / "tiny.yaml")
    cfg.tiny.num_attention_heads = 4  # so that pruning half of them leaves two
    model = classifier.build_model(cfg, LABELS).eval()
    directory = tmp_path_factory.mktemp("random") / "model"
    classifier.save(directory, model, classifier.load_tokenizer("tiny"), LABELS, cfg.max_length)
    return directory
