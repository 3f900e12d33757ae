"""fullcycle.core.paths names every stage output of dvc.yaml, and nothing else, for each stage."""

from __future__ import annotations

from pathlib import Path

import yaml

from fullcycle.core import paths

ROOT = Path(__file__).resolve().parents[2]


def declared(stage: dict) -> set[Path]:
    entries = [*stage.get("outs", []), *stage.get("metrics", []), *stage.get("plots", [])]
    return {Path(next(iter(e)) if isinstance(e, dict) else e) for e in entries}


def test_each_stage_writes_what_paths_names():
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    assert set(stages) == set(paths.OUTPUTS), "a stage added or removed: update core/paths.py"
    for name, stage in stages.items():
        assert declared(stage) == set(paths.OUTPUTS[name]), f"stage {name}: dvc.yaml vs paths.py"


def test_the_stage_commands_write_where_dvc_yaml_says():
    # the monitor stage passes its output folder on the command line
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    assert f"--out {paths.DRIFT_DIR.as_posix()}" in stages["monitor"]["cmd"]
