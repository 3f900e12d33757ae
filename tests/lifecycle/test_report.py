"""`fullcycle pr-comment` and `fullcycle issue`: what the workflows post, one comment/issue each."""

from __future__ import annotations

import json
from pathlib import Path

from fullcycle.cli import main
from tests.conftest import run
from tests.lifecycle.test_workflows import step


def test_pr_comment_is_posted_once_and_edited_in_place(
    sandbox, github, tmp_path, monkeypatch, capsys
):
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"action": "synchronize", "pull_request": {"number": 12}}))
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    # what `fullcycle params ...` + `dvc repro` leave in a PR's workspace: changed params, new metrics
    run(sandbox.root, "dvc", "exp", "apply", "good", check=False)
    Path("params.yaml").write_text(
        Path("params.yaml").read_text().replace("lr: 0.0001", "lr: 0.0002")
    )

    assert main(["pr-comment", "--profile", "tiny"]) == 0
    assert "posted comment" in capsys.readouterr().out
    [comment] = github.state.comments
    assert comment["issue"] == 12
    body = comment["body"]
    assert "## fullcycle: this PR's tiny run against `origin/main`'s committed results" in body
    assert "Profile: **tiny**" in body
    assert "| params.yaml | train.lr" in body and "0.0002" in body
    assert "| reports/eval/metrics.json" in body and "test.f1_macro" in body
    assert "The promotion gate would pass" in body  # the sandbox's gate lets the tiny model pass
    assert body.endswith("<!-- fullcycle:pr-report:tiny -->")

    assert main(["pr-comment", "--profile", "tiny"]) == 0
    assert "updated comment" in capsys.readouterr().out
    assert len(github.state.comments) == 1
    assert len([r for r in github.state.requests if r.method == "PATCH"]) == 1


def test_pr_comment_without_token_prints_the_comment(sandbox, capsys):
    assert main(["pr-comment", "--pr", "3", "--base", "main"]) == 0
    out = capsys.readouterr().out
    assert (
        "GITHUB_TOKEN is not set: not posting" in out
        and "this PR's pipeline run against `main`'s committed results" in out
    )


def test_pr_comment_with_an_unknown_base(sandbox, capsys):
    assert main(["pr-comment", "--base", "nope"]) != 0
    assert "cannot compare with 'nope'" in capsys.readouterr().err


def test_issue_is_opened_once_then_commented(github, tmp_path, monkeypatch, capsys):
    summary = tmp_path / "drift.md"
    summary.write_text("## Drift\ntext length drifted (p=0.001)\n")
    monkeypatch.setenv("GITHUB_RUN_ID", "99")
    args = ["issue", "--title", "Drift detected", "--body-file", str(summary), "--label", "drift"]
    assert main(args) == 0
    assert "opened issue #1" in capsys.readouterr().out
    [issue] = github.state.issues
    assert issue["labels"] == [{"name": "drift"}] and "text length drifted" in issue["body"]
    assert "/acme/project/actions/runs/99" in issue["body"]
    assert main(args) == 0
    assert "commented on the open issue #1" in capsys.readouterr().out
    assert len(github.state.issues) == 1 and len(github.state.comments) == 1


def test_issue_needs_its_body_file(tmp_path, capsys):
    assert main(["issue", "--title", "x", "--body-file", str(tmp_path / "missing.md")]) != 0
    assert "missing.md not found" in capsys.readouterr().err


def test_a_prs_tiny_run_is_compared_with_mains_tiny_run(sandbox, tmp_path, capsys):
    """pipeline.yml's own record step (run here as written) keeps main's tiny run; the PR's
    comment compares with it, like with like, and names the profile."""
    import os
    import subprocess

    run(sandbox.root, "dvc", "exp", "apply", "good", check=False)  # main's tiny run
    record = step("pipeline.yml", "repro-tiny", "Record main's tiny run")
    subprocess.run(["bash", "-e", "-c", record["run"]], env=os.environ | record["env"], check=True)
    folder = record["env"]["MAIN_RUN"]
    main_sha = sandbox.git("rev-parse", "HEAD")[:7]
    run(sandbox.root, "dvc", "exp", "apply", "weak", check=False)  # the PR's tiny run
    assert main(["pr-comment", "--pr", "3", "--profile", "tiny", "--main-run", folder]) == 0
    out = capsys.readouterr().out
    assert f"this PR's tiny run against main's tiny run (`{main_sha}`)" in out
    assert "Profile: **tiny** — a random tiny BERT" in out
    assert "| train.lr | 0.0001 | 1e-05 |" in out  # only what the PR changed, not the profile
    assert "model.name_or_path" not in out
    assert "| reports/eval/metrics.json | test.f1_macro |" in out
    assert "no model on main yet" not in out

    # nothing recorded yet (a new repository): said so, not compared with the full model
    assert main(["pr-comment", "--pr", "3", "--profile", "tiny", "--main-run", "nowhere"]) == 0
    assert "no tiny run of main recorded yet" in capsys.readouterr().out
