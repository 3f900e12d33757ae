"""`fullcycle reproduced`: a real git + DVC repo with a committed record, no model trained: the
workspace's dvc.lock, metrics and predictions are written directly, as `dvc repro` would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from fullcycle.cli import main
from fullcycle.core.errors import FullcycleError
from fullcycle.core.evidence import Predictions, dumps
from fullcycle.lifecycle import reproduced
from tests.conftest import BIN, git, run

LABELS = ["business", "sports", "tech"]
TEXTS = [f"text {i}" for i in range(12)]
ACTUAL = [LABELS[i % 3] for i in range(12)]
# DVC reads numbers (and true/false) as metrics, not lists: the interval is not compared
METRICS = {"test": {"accuracy": 0.9626, "f1_macro": 0.963, "accuracy_ci": [0.94, 0.98]}}
MODEL_MD5 = "0123456789abcdef0123456789abcdef.dir"

PIPELINE = {
    "stages": {
        "baseline": {
            "cmd": "fullcycle baseline",
            "metrics": [{"reports/baseline/metrics.json": {"cache": False}}],
        },
        "train": {"cmd": "fullcycle train", "deps": ["src"], "outs": ["models/classifier"]},
        "evaluate": {
            "cmd": "fullcycle evaluate",
            "deps": ["models/classifier"],
            "outs": [{"reports/eval/predictions.json": {"cache": False}}],
            "metrics": [{"reports/eval/metrics.json": {"cache": False}}],
        },
    }
}


def lock(model_md5: str = MODEL_MD5, lr: float = 0.0001, src_md5: str = "a" * 32 + ".dir") -> str:
    def out(path: str, md5: str) -> dict:
        return {"path": path, "hash": "md5", "md5": md5, "size": 10}

    return yaml.safe_dump(
        {
            "schema": "2.0",
            "stages": {
                "train": {
                    "cmd": "fullcycle train",
                    "deps": [out("src", src_md5)],
                    "params": {"params.yaml": {"train": {"lr": lr}}},
                    "outs": [out("models/classifier", model_md5)],
                },
                "evaluate": {
                    "cmd": "fullcycle evaluate",
                    "deps": [out("models/classifier", model_md5)],
                    "outs": [
                        out("reports/eval/metrics.json", "b" * 32),
                        out("reports/eval/predictions.json", "c" * 32),
                    ],
                },
            },
        },
        sort_keys=False,
    )


def predictions(wrong: int = 0) -> str:
    """A predictions file for the 12 test texts, the first `wrong` predicted as another label."""
    predicted = [LABELS[(i % 3 + 1) % 3] if i < wrong else label for i, label in enumerate(ACTUAL)]
    return dumps({"test": Predictions.of(LABELS, TEXTS, ACTUAL, predicted)})


def write(root: Path, path: str, text: str) -> None:
    (root / path).parent.mkdir(parents=True, exist_ok=True)
    (root / path).write_text(text)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A committed record: dvc.yaml, dvc.lock, metrics and predictions (models/ is DVC's)."""
    root = tmp_path / "project"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "fullcycle tests")
    git(root, "config", "user.email", "tests@fullcycle.local")
    run(root, str(BIN / "dvc"), "init", "-q")
    write(root, "dvc.yaml", yaml.safe_dump(PIPELINE, sort_keys=False))
    write(root, "dvc.lock", lock())
    write(root, "params.yaml", "train:\n  lr: 0.0001\n")
    write(root, "src/train.py", "print('train')\n")
    write(root, "reports/eval/metrics.json", json.dumps(METRICS, indent=2) + "\n")
    write(root, "reports/baseline/metrics.json", json.dumps({"test": {"accuracy": 0.95}}) + "\n")
    write(root, "reports/eval/predictions.json", predictions())
    write(root, ".gitignore", "/models\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "the committed record")
    monkeypatch.chdir(root)
    return root


def test_an_unchanged_workspace_is_reproduced(repo: Path, capsys: pytest.CaptureFixture) -> None:
    report = reproduced.check(repo)
    assert report.reproduced and report.exit_code == 0
    assert report.numbers == 3 and report.outputs == [] and report.inputs == []

    assert main(["reproduced"]) == 0
    out = capsys.readouterr().out
    assert "metrics: reproduced: all 3 committed numbers are equal" in out
    assert "reports/eval/metrics.json" in out
    assert "the model's predictions equal the committed ones on all 12 test texts" in out
    assert "bytes: every output equals HEAD's" in out
    assert "next:" not in out  # nothing to keep or commit


def test_other_bytes_with_equal_metrics_are_named_with_the_reason(
    repo: Path, capsys: pytest.CaptureFixture
) -> None:
    # another CPU kind retrained the model: its hash (and so evaluate's dep) changed, nothing else
    write(repo, "dvc.lock", lock(model_md5="fedcba9876543210fedcba9876543210.dir"))

    report = reproduced.check(repo)
    assert report.exit_code == 0
    assert report.outputs == ["dvc.lock", "models/classifier"]
    assert report.inputs == []  # models/classifier is an output, not an input

    assert main(["reproduced"]) == 0
    out = capsys.readouterr().out
    assert "outputs whose bytes differ from HEAD's: dvc.lock, models/classifier" in out
    assert "bytes differ, metrics equal: float kernels differ between CPU kinds" in out
    assert "git checkout dvc.lock reports/" in out and "dvc checkout" in out


def test_a_changed_metric_is_named_and_exits_1(repo: Path, capsys: pytest.CaptureFixture) -> None:
    changed = {"test": METRICS["test"] | {"accuracy": 0.9595}}
    write(repo, "reports/eval/metrics.json", json.dumps(changed, indent=2) + "\n")

    report = reproduced.check(repo)
    assert report.exit_code == 1
    assert report.differences == [("reports/eval/metrics.json:test.accuracy", 0.9626, 0.9595)]
    assert report.outputs == ["reports/eval/metrics.json"]  # modified in git

    assert main(["reproduced"]) == 1
    out = capsys.readouterr().out
    assert "metrics: NOT reproduced: 1 of 3 committed numbers differ" in out
    assert "  equal: every number of reports/baseline/metrics.json" in out
    assert "reports/eval/metrics.json:test.accuracy: 0.9626 -> 0.9595" in out
    assert "float kernels" not in out  # not a bytes-only difference
    assert "from the same inputs as HEAD's" in out


def test_a_missing_metrics_file_is_not_reproduced(repo: Path) -> None:
    (repo / "reports/eval/metrics.json").unlink()
    report = reproduced.check(repo)
    assert report.exit_code == 1
    assert ("reports/eval/metrics.json:test.f1_macro", 0.963, "missing") in report.differences


def test_predictions_that_differ_are_counted(repo: Path, capsys: pytest.CaptureFixture) -> None:
    write(repo, "reports/eval/predictions.json", predictions(wrong=3))

    assert main(["reproduced"]) == 0  # the metrics files are what the verdict compares
    out = capsys.readouterr().out
    assert "the model's predictions: 3 of 12 test texts predicted differently from HEAD's" in out


def test_predictions_missing_on_one_side_are_skipped(repo: Path) -> None:
    (repo / "reports/eval/predictions.json").unlink()
    assert reproduced.check(repo).predictions == []


def test_changed_inputs_are_not_blamed_on_the_cpu(
    repo: Path, capsys: pytest.CaptureFixture
) -> None:
    write(repo, "params.yaml", "train:\n  lr: 0.001\n")
    write(repo, "dvc.lock", lock(model_md5="f" * 32 + ".dir", lr=0.001))
    write(repo, "README.md", "notes\n")  # staged, not a pipeline file: listed apart
    git(repo, "add", "README.md")

    report = reproduced.check(repo)
    assert report.exit_code == 0
    assert report.inputs == ["params.yaml", "params.yaml:train.lr"]
    assert report.others == ["README.md"]
    assert main(["reproduced"]) == 0
    out = capsys.readouterr().out
    assert "float kernels" not in out
    assert "inputs that differ from HEAD's: params.yaml, params.yaml:train.lr" in out


def test_no_git_repo_or_no_commit_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    monkeypatch.chdir(outside)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    assert main(["reproduced"]) == 2
    assert "not inside a git repository" in capsys.readouterr().err

    git(outside, "init", "-q")
    with pytest.raises(FullcycleError, match="no commit yet"):
        reproduced.check(outside)


def test_cpu_line(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text(
        "processor\t: 0\nmodel name\t: AMD EPYC 7B13\nflags\t\t: fpu sse2 avx avx2 fma\n\n"
        "processor\t: 1\nmodel name\t: AMD EPYC 7B13\nflags\t\t: fpu sse2 avx avx2 fma\n"
    )
    assert reproduced.cpu(info) == "AMD EPYC 7B13 (ISA flags: avx2)"
    info.write_text("model name : Intel Xeon\nflags : avx2 avx512f amx_tile amx_int8 amx_bf16\n")
    assert reproduced.cpu(info) == "Intel Xeon (ISA flags: avx2 avx512f amx_tile amx_int8 amx_bf16)"
    assert reproduced.cpu(tmp_path / "absent") is None  # another OS: no line


def test_a_first_run_has_no_record_to_compare_with(tmp_path, monkeypatch, capsys) -> None:
    """A project made by `fullcycle init` commits no dvc.lock: its first `make repro` is told so,
    and how to commit the record (not to "keep HEAD's record", which does not exist)."""
    root = tmp_path / "new"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    run(root, str(BIN / "dvc"), "init", "-q")
    write(root, "dvc.yaml", yaml.safe_dump(PIPELINE, sort_keys=False))
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "a new project")
    write(root, "dvc.lock", lock())
    write(root, "reports/eval/metrics.json", json.dumps(METRICS, indent=2) + "\n")
    monkeypatch.chdir(root)
    assert reproduced.cli_reproduced(None) == 0
    out = capsys.readouterr().out
    assert "commits no dvc.lock yet: the first recorded run" in out
    assert "git add dvc.lock reports" in out and "keep HEAD's record" not in out
