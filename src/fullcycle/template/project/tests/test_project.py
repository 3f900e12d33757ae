"""This project's own checks: its params compose from conf/, its data validates, and the whole
pipeline runs end to end with a tiny random model in a scratch copy (seconds, not minutes).

They call the `fullcycle` command the project depends on, as a person would, from the project root;
the smoke run calls its entry point for every stage in one Python process (each `fullcycle <stage>`
process would import torch and transformers again: most of a tiny run's time, measured 32 s vs 13 s).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
FULLCYCLE = [sys.executable, "-m", "fullcycle.cli"]
# A smoke run: a random 2-layer BERT, one epoch, a few texts per class.
TINY = ["model=tiny", "trainer.max_epochs=1", "data.max_per_class=30"]
# The stages through fullcycle's own entry point in one process: a `fullcycle <stage>` process each
# would import torch and transformers five times, most of a tiny run's time (measured 32 s vs 13 s).
RUN_STAGES = """
import sys
from fullcycle.cli import main
stages, overrides = sys.argv[1].split(), sys.argv[2:]
for stage in stages:
    if main([stage, *overrides]):
        sys.exit(f"fullcycle {stage} {' '.join(overrides)} failed (its error is above)")
"""


def fullcycle(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [*FULLCYCLE, *args], cwd=cwd, capture_output=True, text=True, env=os.environ.copy()
    )
    assert done.returncode == 0, f"fullcycle {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done


def data_params() -> dict:
    return yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))["data"]


def test_params_compose_from_conf():
    """params.yaml is what conf/ composes to (CI checks the same)."""
    fullcycle("params", "--check")


def test_the_data_validates():
    data = data_params()
    if data["source"] != "file":
        pytest.skip(f"data.source is {data['source']}: a corpus shipped with fullcycle")
    args = ["data", "validate", data["path"], "--text-col", data["text_col"]]
    args += ["--label-col", data["label_col"], "--on-conflict", data["on_conflict"]]
    if data.get("labels"):
        args += ["--labels", ",".join(data["labels"])]
    assert "valid" in fullcycle(*args).stdout


def test_the_pipeline_runs_with_a_tiny_model(tmp_path):
    """prepare -> baseline -> train -> explain -> evaluate in a copy of the project (the workspace
    is not touched), with the tiny model through overrides."""
    copy = tmp_path / "project"
    skip = shutil.ignore_patterns(".venv", ".git", "models", "dvclive", ".fullcycle", "bentos")
    shutil.copytree(ROOT, copy, ignore=skip)
    stages = "prepare baseline train explain evaluate"
    done = subprocess.run(
        [sys.executable, "-c", RUN_STAGES, stages, *TINY], cwd=copy, capture_output=True, text=True
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    metrics = (copy / "reports" / "eval" / "metrics.json").read_text(encoding="utf-8")
    assert '"accuracy"' in metrics
