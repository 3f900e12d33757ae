"""The repository's own hygiene: lint, format, pre-commit config, GitHub workflows, the two commands."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def tool(*cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)


def test_ruff_lint_and_format_are_clean():
    lint = tool(str(BIN / "ruff"), "check", "src", "tests", "bench")
    assert lint.returncode == 0, lint.stdout
    fmt = tool(str(BIN / "ruff"), "format", "--check", "src", "tests", "bench")
    assert fmt.returncode == 0, fmt.stdout


def test_pre_commit_config_is_valid_and_offline():
    done = tool(str(BIN / "pre-commit"), "validate-config", ".pre-commit-config.yaml")
    assert done.returncode == 0, done.stdout + done.stderr
    config = (REPO / ".pre-commit-config.yaml").read_text()
    # hook repos on GitHub cannot be cloned here: every hook must be local
    assert re.findall(r"- repo: (\S+)", config) == ["local"]


def test_github_workflows_pass_actionlint():
    workflows = sorted(str(p) for p in (REPO / ".github" / "workflows").glob("*.y*ml"))
    assert workflows, "no workflows found"
    done = tool(str(BIN / "actionlint"), *workflows)
    assert done.returncode == 0, done.stdout + done.stderr


def test_ci_runs_exactly_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    assert "make test" in readme and "make repro" in readme
    assert re.search(r"^time make test$", ci, re.M)


@pytest.mark.parametrize("target", ["setup", "repro", "test"])
def test_makefile_targets_exist(target):
    done = tool("make", "-n", target)
    assert done.returncode == 0, done.stderr
