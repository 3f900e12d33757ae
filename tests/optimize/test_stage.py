"""The optimize stage on the session's trained tiny model: outputs, gate, byte-stability, errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from fullcycle import cli
from fullcycle.core import params
from fullcycle.core.provenance import content_version
from fullcycle.optimize import stage
from fullcycle.optimize.onnx_model import OnnxClassifier


def read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


PRUNE = {"enabled": True, "heads_fraction": 0.5, "ffn_fraction": 0.0, "steps": 2, "batch_size": 8,
         "lr": 5e-5, "distill": 0.0, "temperature": 2.0}  # fmt: skip


def set_params(root: Path, **optimize) -> None:
    path = root / "params.yaml"
    cfg = yaml.safe_load(path.read_text())
    cfg["optimize"].update(optimize)
    path.write_text(yaml.safe_dump(cfg))


def test_outputs_name_the_variant_and_the_source_model(optimized_model):
    root = optimized_model.parents[1]
    summary = read(root / "reports" / "optimize" / "summary.json")
    manifest = read(optimized_model / "manifest.json")
    assert summary["chosen"] == manifest["variant"] == "int8"  # first in preference that is built
    # two levels deep, so `dvc metrics diff` (and the promote PR) shows them side by side
    assert summary["served"] == summary["variants"]["int8"] == manifest["metrics"]["test"]
    assert summary["torch_fp32"] == summary["variants"]["torch"]
    assert summary["reason"].startswith("int8: test macro-F1")
    variants = summary["variants"]
    assert variants["pruned-int8"] == {"skipped": "optimize.prune.enabled is false"}
    for name in ("torch", "fp32", "int8"):
        assert set(variants[name]) == {"accuracy", "f1_macro", "agreement", "size_mb"}
        assert 0 <= variants[name]["agreement"] <= 1
    assert variants["torch"]["agreement"] == 1.0 and variants["fp32"]["agreement"] == 1.0
    assert variants["int8"]["size_mb"] < variants["fp32"]["size_mb"] / 2
    assert manifest["source"] == {
        "path": "models/classifier",
        "version": content_version(root / "models" / "classifier"),
    }
    assert manifest["fused_operators"]["Attention"] == 2
    assert sorted(p.name for p in optimized_model.iterdir()) == [
        "manifest.json", "model.onnx", "tokenizer.json", "tokenizer_config.json",
    ]  # fmt: skip
    card = (root / "reports" / "optimize" / "card.md").read_text()
    assert "| ONNX Runtime dynamic int8, fused **served** |" in card
    assert "fullcycle optimize --bench" in card and " ms" not in card  # no timings in outputs
    model = OnnxClassifier.load(optimized_model)
    assert [p["label"] for p in model.predict(["a text", "another"])] == [
        p["label"] for p in model.predict(["another", "a text"])
    ][::-1]


def test_a_second_run_writes_the_same_bytes(optimized_model, project_copy):
    stage.run(params.load())
    first = optimized_model.parents[1]
    for name in ("model.onnx", "manifest.json", "tokenizer.json", "tokenizer_config.json"):
        a = (first / "models" / "optimized" / name).read_bytes()
        assert (project_copy / "models" / "optimized" / name).read_bytes() == a, name
    for name in ("summary.json", "card.md"):
        report = Path("reports") / "optimize" / name
        assert (project_copy / report).read_bytes() == (first / report).read_bytes()


def test_pruning_builds_a_scored_variant(project_copy, capsys):
    set_params(project_copy, prune=PRUNE | {"ffn_fraction": 0.5, "distill": 0.5})
    assert cli.main(["optimize"]) == 0
    pruned = read(project_copy / "reports" / "optimize" / "summary.json")["variants"]["pruned-int8"]
    assert set(pruned) == {"accuracy", "f1_macro", "agreement", "size_mb"}
    out = capsys.readouterr().out
    assert "pruned-int8" in out and out.strip().splitlines()[-1].startswith("optimize: serving ")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"confidence": 1.5}, "optimize.confidence = 1.5: must be a number in [0.5, 1)"),
        ({"tolerance": 0.005}, "optimize.tolerance is no longer read"),
        ({"preference": ["int4"]}, "optimize.preference = ['int4']: must be a list out of"),
        (
            {"prune": PRUNE | {"heads_fraction": 1}},
            "optimize.prune.heads_fraction = 1: must be a number in (0, 1)",
        ),
        (
            {"prune": PRUNE | {"ffn_fraction": -0.5}},
            "optimize.prune.ffn_fraction = -0.5: must be a number in [0, 1)",
        ),
        (
            {"prune": PRUNE | {"distill": 2}},
            "optimize.prune.distill = 2: must be a number in [0, 1]",
        ),
    ],
)
def test_bad_params_are_one_line_and_write_nothing(project_copy, capsys, change, message):
    set_params(project_copy, **change)
    assert cli.main(["optimize"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (project_copy / "models" / "optimized").exists()
    assert not (project_copy / "reports" / "optimize").exists()


def test_dvc_repro_runs_the_declared_stage(optimized_model, tmp_path):
    """The stage as dvc.yaml declares it: its deps exist, its outputs appear; its summary is a
    plain output (in git), not a `dvc metrics show` column."""
    from tests.conftest import run

    root = tmp_path / "dvc"
    shutil.copytree(optimized_model.parents[1], root)
    shutil.rmtree(root / "models" / "optimized")
    shutil.rmtree(root / "reports" / "optimize")
    done = run(root, "dvc", "repro", "--single-item", "optimize")
    assert "Running stage 'optimize'" in done.stdout and "optimize: serving int8" in done.stdout
    assert (root / "models" / "optimized" / "model.onnx").is_file()
    assert not (root / "reports" / ".gitignore").exists()  # summary and card are git files
    assert json.loads((root / "reports/optimize/summary.json").read_text())["chosen"] == "int8"
    shown = run(root, "dvc", "metrics", "show", "--json").stdout
    assert "reports/optimize/summary.json" not in shown
    again = run(root, "dvc", "repro", "--single-item", "optimize")
    assert "Running stage" not in again.stdout
