"""The command line as assembled from the steps' light `commands` modules: `--help` imports no heavy
library, and every DVC stage's command takes Hydra overrides for one run (parsed, never run)."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from fullcycle.cli import build_parser

REPO = Path(__file__).resolve().parents[1]
HEAVY = ["pandas", "torch", "lightning", "transformers", "bentoml", "sklearn", "evidently", "dvc"]


def test_help_imports_nothing_heavy():
    code = (
        "import sys\n"
        "from fullcycle.cli import build_parser\n"
        "build_parser().print_help()\n"
        f"print('loaded:', *sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert "usage: fullcycle" in done.stdout
    assert done.stdout.splitlines()[-1] == "loaded:", done.stdout.splitlines()[-1]


def test_what_only_checks_or_orchestrates_imports_no_torch():
    """BentoML imports the service module to find the service (the server's arbiter process,
    `bentoml build` in `fullcycle package`), `fullcycle serve` checks the model's files before it
    starts the server, and `fullcycle tune` runs its trials in other processes: none of them needs
    torch or Lightning, seconds of imports at every start (the model loads in the worker)."""
    modules = [
        "fullcycle.serve.service",
        "fullcycle.serve.launch",
        "fullcycle.serve.package",
        "fullcycle.core.model_meta",
        "fullcycle.tune.search",
        "fullcycle.tune.trial",
        "fullcycle.tune.study",
    ]
    heavy = {"torch", "lightning", "transformers", "torchmetrics"}
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"print('loaded:', *sorted({{m.split('.')[0] for m in sys.modules}} & {heavy!r}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines()[-1] == "loaded:", done.stdout.splitlines()[-1]


def stage_commands() -> dict[str, list[str]]:
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    return {name: shlex.split(stage["cmd"]) for name, stage in stages.items()}


@pytest.mark.parametrize("name", sorted(stage_commands()))
def test_every_dvc_stage_takes_overrides_for_one_run(name):
    argv = stage_commands()[name]
    assert argv[0] == "fullcycle", f"stage {name} runs {argv}"
    args = build_parser().parse_args([*argv[1:], "model=tiny", "trainer.max_epochs=1"])
    assert args.overrides == ["model=tiny", "trainer.max_epochs=1"]
    assert args.handler.takes_overrides


def test_optimize_takes_overrides(capsys):
    args = build_parser().parse_args(["optimize", "model=tiny"])
    assert args.command == "optimize" and args.overrides == ["model=tiny"] and not args.bench
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["optimize", "model=tiny", "--help"])
    assert exit_.value.code == 0
    assert "KEY=VALUE" in capsys.readouterr().out


def test_data_validate_and_data_add_read_a_file_with_the_same_options():
    flags = ["--text-col", "review", "--label-col", "y", "--labels", "a,b", "--on-conflict", "drop"]
    for command in (["data", "validate"], ["data", "add"]):
        args = build_parser().parse_args([*command, "reviews.csv", *flags])
        assert (args.text_col, args.label_col, args.labels, args.on_conflict) == (
            "review",
            "y",
            "a,b",
            "drop",
        )
