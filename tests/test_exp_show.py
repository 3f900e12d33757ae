"""Comparison a person can read (issue 10, item 13): only what people compare is a DVC metric,
and the README's `dvc exp show` recipe fits a 120-column terminal. Real DVC; the experiment is
recorded with `dvc exp save` from hand-written results (no training needed to compare)."""

from __future__ import annotations

import json
import re
import subprocess

import yaml

from .conftest import REPO, git, make_project, run

LABELS = ["business", "entertainment", "politics", "sports", "tech"]


def results(root, f1: float) -> None:
    """The files the stages would write (shapes as the stages write them)."""
    files = {
        "reports/eval/metrics.json": {
            "test": {"accuracy": f1, "f1_macro": f1, "rows": 321},
            "model": {"parameters": 22715141, "size_mb": 90.9},
        },
        "reports/eval/per_class.json": {k: {"f1": f1, "support": 64} for k in LABELS},
        "reports/eval/confusion.json": [],
        "reports/baseline/metrics.json": {"test": {"accuracy": 0.96, "f1_macro": 0.959, "rows": 3}},
        "reports/eval/predictions.json": {"labels": LABELS},
        "reports/baseline/predictions.json": {"labels": LABELS},
        "reports/data/summary.json": {"rows": {"total": 2127}, "classes": {"train": {}}},
        "reports/drift/summary.json": {
            "drift_detected": False,
            "checks": {c: {"score": 0.5, "threshold": 0.6, "drift": False} for c in "abcdefgh"},
        },
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
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    metrics = [next(iter(m)) if isinstance(m, dict) else m for s in stages.values()
               for m in s.get("metrics", [])]  # fmt: skip
    assert sorted(metrics) == [
        "reports/baseline/metrics.json",
        "reports/drift/summary.json",
        "reports/eval/metrics.json",
        "reports/optimize/summary.json",
    ]


def test_the_readme_exp_show_recipe_fits_120_columns(tmp_path):
    readme = (REPO / "README.md").read_text()
    recipe = re.search(r"^dvc exp show --csv.*?column -ts,$", readme, re.S | re.M).group(0)
    root = make_project(tmp_path / "project", ["model=tiny"])
    with (root / ".gitignore").open("a") as ignore:  # DVC-cached outputs stay out of git
        ignore.write(
            "/bentos/classifier.bento\n/reports/drift/report.html\n/data/processed\n"
            "/reports/explain/index.html\n/models/optimized\n"
        )
    results(root, 0.972)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "results")
    params = (root / "params.yaml").read_text()
    slower_lr = re.sub(r"(?m)^  lr: .*$", "  lr: 5.0e-05", params)  # train.lr, whatever conf says
    assert slower_lr != params
    (root / "params.yaml").write_text(slower_lr)
    results(root, 0.965)
    run(root, "dvc", "exp", "save", "-n", "slower")
    git(root, "checkout", "-q", "--", ".")

    shown = subprocess.run(["bash", "-c", recipe], cwd=root, capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0].split() == [
        "Experiment", "rev", "baseline_f1_macro", "accuracy", "f1_macro", "drift_detected",
        "train.lr",
    ]  # fmt: skip
    assert max(map(len, lines)) <= 120, shown.stdout
    slower = next(line for line in lines if line.startswith("slower"))
    assert "0.965" in slower and "5e-05" in slower
