"""Same inputs, same bytes: a cached DVC output is a function of its inputs (issue 10, items 1-3).

Real `dvc repro` / `dvc status` in temporary projects; no mocks.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from .conftest import run

pytestmark = pytest.mark.usefixtures("one_thread")


def locked_outs(root: Path) -> dict[str, str]:
    lock = yaml.safe_load((root / "dvc.lock").read_text())
    return {
        f"{name}:{out['path']}": out["md5"]
        for name, stage in lock["stages"].items()
        for out in stage.get("outs", [])
    }


def test_forced_reruns_write_the_same_hashes_and_bytecode_changes_no_stage(project):
    run(project, "dvc", "repro", "evaluate")
    first = locked_outs(project)
    assert {"train:models/classifier", "evaluate:reports/eval/metrics.json"} <= set(first)
    meta = json.loads((project / "models/classifier/fullcycle.json").read_text())
    assert "git_commit" not in meta  # stamped at package/release time, not in the model
    assert meta["data"]["md5"] == first["prepare:data/processed"]  # DVC's own hash

    # same data, params and code: a forced rerun writes the same model, metrics and card
    run(project, "dvc", "repro", "--force", "--single-item", "train", "evaluate")
    assert locked_outs(project) == first

    # bytecode is not code: .pyc files under src/ dependencies leave every stage up to date
    for package in ("train", "data"):
        cache = project / "src/fullcycle" / package / "__pycache__"
        cache.mkdir(exist_ok=True)
        (cache / "stage.cpython-311.pyc").write_bytes(b"\x00compiled")
    (project / "src/fullcycle/train/stray.pyc").write_bytes(b"\x00compiled")
    status = json.loads(run(project, "dvc", "status", "--json").stdout)
    assert [
        stage for stage in ("prepare", "baseline", "train", "evaluate") if stage in status
    ] == []
