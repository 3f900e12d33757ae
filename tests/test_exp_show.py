"""Comparison a person can read (issue 10, item 13; issue 20, item 2): only what people compare is
a DVC metric, under names no two files share, so `dvc metrics show` and the README's
`dvc exp show` line fit a 120-column terminal with no recipe. Real DVC; the experiment is recorded
with `dvc exp save` from hand-written results in the shapes the stages write (no training needed
to compare)."""

from __future__ import annotations

import json
import os
import re
import subprocess

import yaml

from .conftest import REPO, git, make_project, run

LABELS = ["business", "entertainment", "politics", "sports", "tech"]


def results(root, f1: float) -> None:
    """The files the stages would write (shapes as the stages write them)."""
    files = {
        "reports/eval/metrics.json": {
            "test": {"accuracy": f1, "accuracy_ci": [0.95, 0.99], "f1_macro": f1},
            # a project with labels imported: the slice is compared too
            "labelled": {"accuracy": 1.0, "accuracy_ci": [0.34, 1.0], "f1_macro": 1.0},
        },
        "reports/eval/per_class.json": {k: {"f1": f1, "support": 64} for k in LABELS},
        "reports/eval/confusion.json": [],
        "reports/baseline/metrics.json": {"test": {"accuracy": 0.96, "f1_macro": 0.959, "rows": 3}},
        "reports/eval/predictions.json": {"labels": LABELS},
        "reports/baseline/predictions.json": {"labels": LABELS},
        "reports/data/summary.json": {"rows": {"total": 2127}, "classes": {"train": {}}},
        "reports/drift/summary.json": {
            "drift_detected": True,
            "checks": {c: {"score": 0.5, "threshold": 0.6, "drift": False} for c in "abcdefgh"},
        },
        "reports/drift/metrics.json": {"drift": "topic-mix shift"},
        "dvclive/metrics.json": {"train": {"loss": 0.7}, "val": {"f1_macro": f1}, "step": 9},
        "reports/optimize/summary.json": {
            "chosen": "int8",
            "served": {"accuracy": f1, "f1_macro": f1, "agreement": 0.99, "size_mb": 22.9},
            "torch_fp32": {"accuracy": f1, "f1_macro": f1, "agreement": 1.0, "size_mb": 90.9},
        },
    }
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(json.dumps(data))
    for name in (
        "data/processed/a",
        "models/classifier/a",
        "models/optimized/a",
        "bentos/classifier.bento",
        "reports/explain/index.html",
        "reports/explain/summary.json",
        "reports/optimize/card.md",
    ):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("a")
    (root / "reports/model_card.md").write_text("card")
    (root / "reports/drift/report.html").write_text("html")


def test_only_compared_numbers_are_metrics():
    pipeline = yaml.safe_load((REPO / "dvc.yaml").read_text())
    metrics = [next(iter(m)) if isinstance(m, dict) else m for s in pipeline["stages"].values()
               for m in s.get("metrics", [])]  # fmt: skip
    assert sorted(metrics) == ["reports/drift/metrics.json", "reports/eval/metrics.json"]
    assert "metrics" not in pipeline  # dvclive/metrics.json: learning rates, steps, losses


def readme_exp_show() -> str:
    readme = (REPO / "README.md").read_text()
    return re.search(r"^dvc exp show --only-changed.*$", readme, re.M).group(0).split("#")[0]


def test_metrics_and_exp_show_fit_120_columns(tmp_path):
    root = make_project(tmp_path / "project", ["model=tiny"])
    with (root / ".gitignore").open("a") as ignore:  # DVC-cached outputs stay out of git
        ignore.write(
            "/bentos/classifier.bento\n/reports/drift/report.html\n/data/processed\n"
            "/reports/explain/index.html\n/models/optimized\n"
        )
    results(root, 0.972)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "results")

    shown = run(root, "dvc", "metrics", "show").stdout
    lines = shown.splitlines()
    assert lines[0].split() == [
        "Path", "drift", "labelled.accuracy", "labelled.f1_macro", "test.accuracy", "test.f1_macro",
    ]  # fmt: skip
    assert max(map(len, lines)) <= 120, shown
    assert "topic-mix shift" in shown and "0.972" in shown

    params = (root / "params.yaml").read_text()
    slower_lr = re.sub(r"(?m)^  lr: .*$", "  lr: 5.0e-05", params)  # train.lr, whatever conf says
    assert slower_lr != params
    (root / "params.yaml").write_text(slower_lr)
    results(root, 0.965)
    run(root, "dvc", "exp", "save", "-n", "slower")
    git(root, "checkout", "-q", "--", ".")

    line = readme_exp_show()
    table = subprocess.run(
        ["bash", "-c", line],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "120"},  # PATH as the session set it
    )
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert max(map(len, lines)) <= 120, table.stdout
    header = next(ln for ln in lines if "Experiment" in ln).split()
    assert header == ["Experiment", "Created", "test.accuracy", "test.f1_macro", "train.lr"]
    slower = next(ln for ln in lines if "[slower]" in ln)
    assert "0.965" in slower and "5e-05" in slower and "…" not in table.stdout
