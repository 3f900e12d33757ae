"""A checkpoint is resumed only by the code that wrote it: the code hash covers training's code."""

from __future__ import annotations

from pathlib import Path

import yaml

import fullcycle
from fullcycle.train import checkpoints

REPO = Path(__file__).resolve().parents[2]


def test_the_code_hash_covers_the_core_modules_train_depends_on():
    package = Path(fullcycle.__file__).parent
    for name in checkpoints.TRAINING_CORE:
        assert (package / "core" / f"{name}.py").is_file(), name
    deps = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]["train"]["deps"]
    core_deps = {Path(d).stem for d in deps if d.startswith("src/fullcycle/core/")}
    # every core module train's outputs depend on (dvc.yaml) invalidates its checkpoints too
    assert core_deps - {"__init__", "paths", "params", "io", "errors", "logs", "provenance"} <= set(
        checkpoints.TRAINING_CORE
    ), core_deps


def test_changing_a_training_core_module_changes_the_code_hash(tmp_path, monkeypatch):
    package = tmp_path / "fullcycle"
    for rel in ["train/stage.py", *(f"core/{n}.py" for n in checkpoints.TRAINING_CORE)]:
        (package / rel).parent.mkdir(parents=True, exist_ok=True)
        (package / rel).write_text("x = 1\n")
    monkeypatch.setattr(fullcycle, "__file__", str(package / "__init__.py"))
    before = checkpoints.code_md5()
    (package / "core" / "windows.py").write_text("x = 2\n")
    assert checkpoints.code_md5() != before
