"""`fullcycle promote`: the gate, the branch, the pushes and the PR — or a clear refusal, nothing pushed."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from fullcycle.cli import main
from fullcycle.lifecycle import records
from fullcycle.lifecycle.experiments import Run
from fullcycle.lifecycle.promote import DEFAULTS, check_gate
from tests.lifecycle.conftest import set_gate

BRANCH = "promote/good"


def origin_branches(box) -> list[str]:
    return box.origin_git("branch", "--format=%(refname:short)").split()


def remote_file_count(box) -> int:
    return sum(1 for p in (box.base / "dvc-remote").rglob("*") if p.is_file())


def run_with(metrics: dict[str, float | None]) -> Run:
    eval_m = (
        {"test": {"f1_macro": metrics["candidate"]}} if metrics.get("candidate") is not None else {}
    )
    base_m = (
        {"test": {"f1_macro": metrics["baseline"]}} if metrics.get("baseline") is not None else {}
    )
    return Run(
        rev="c",
        name="c",
        metrics={"reports/eval/metrics.json": eval_m, "reports/baseline/metrics.json": base_m},
    )


@pytest.mark.parametrize(
    ("candidate", "main_f1", "baseline", "passed", "why"),
    [
        (0.90, 0.905, 0.80, True, ""),  # within the tolerance of main
        (0.90, 0.92, 0.80, False, "below main's 0.9200 by more than the tolerance 0.01"),
        (0.90, None, 0.80, True, ""),  # first promotion: nothing on main yet
        (0.80, None, 0.80, False, "does not beat the baseline's 0.8000"),
        (0.90, None, None, False, "no baseline test.f1_macro"),
        (None, 0.9, 0.8, False, "the experiment has no test.f1_macro"),
    ],
)
def test_gate_rules(candidate, main_f1, baseline, passed, why):
    main_run = run_with({"candidate": main_f1}) if main_f1 is not None else None
    gate = check_gate(run_with({"candidate": candidate, "baseline": baseline}), main_run, DEFAULTS)
    assert gate.passed is passed
    assert why in gate.failure()


def test_promote_opens_the_pr_then_updates_it(sandbox, github, capsys):
    start = time.perf_counter()
    assert main(["promote", "good"]) == 0
    elapsed = time.perf_counter() - start
    print(f"promote end to end: {elapsed:.1f}s")  # reported; the target is <= 20 s
    out = capsys.readouterr().out
    assert "opened pull request #1" in out

    [post] = github.state.calls("POST", "/pulls")
    assert post.body["head"] == BRANCH and post.body["base"] == "main"
    assert post.body["title"].startswith("Promote good: test.f1_macro ")
    body = post.body["body"]
    for part in (
        "### Gate",
        "| vs main |",
        "no model on main yet",
        "### Params (vs `main`)",
        "| params.yaml | model.name_or_path",
        "### Metrics (vs `main`)",
        "| reports/eval/metrics.json     | test.f1_macro",
        "### Model card",
        "# Model card",
    ):
        assert part in body, part
    assert ".per_class." not in body  # headline metrics only; the card has the per-class table

    # the branch: the experiment's commit plus one commit with the promotion record
    refs = sandbox.git("for-each-ref", "refs/exps", "--format=%(refname) %(objectname)")
    exp_sha = next(
        line.split()[1] for line in refs.splitlines() if line.split()[0].endswith("/good")
    )
    tip = sandbox.origin_git("rev-parse", BRANCH)
    assert sandbox.git("rev-parse", f"{tip}^") == exp_sha
    assert sandbox.git("rev-parse", BRANCH) == tip
    message = sandbox.git("log", "-1", "--format=%B", tip)
    promo = records.trailer(records.PROMOTION, message)
    assert promo["experiment"] == "good" and promo["main"] == "none"
    evidence = json.loads(sandbox.git("show", f"{tip}:reports/promotion/evidence.json"))
    assert evidence["gate"]["passed"] and evidence["experiment"] == "good"
    assert "# Model card" in sandbox.git("show", f"{tip}:reports/promotion/model_card.md")
    assert remote_file_count(sandbox) > 1  # model and reports pushed to DVC
    # the user's checkout is untouched
    assert sandbox.git("branch", "--show-current") == "main"
    assert sandbox.git("status", "--porcelain", "--untracked-files=no") == ""

    assert main(["promote", "good"]) == 0
    assert "updated pull request #1" in capsys.readouterr().out
    assert len(github.state.pulls) == 1 and len(github.state.calls("PATCH", "/pulls/1")) == 1
    assert sandbox.origin_git("rev-parse", BRANCH) != tip  # the branch moved to the new record


def test_without_token_prints_the_request_and_compare_url(sandbox, capsys, monkeypatch):
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/project")
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.example")
    assert main(["promote", "good"]) == 0
    out = capsys.readouterr().out
    assert "GITHUB_TOKEN is not set" in out
    assert '"head": "promote/good", "base": "main"' in out
    assert "https://github.example/acme/project/compare/main...promote/good?expand=1" in out
    assert BRANCH in origin_branches(sandbox)


def test_refuses_a_dirty_tree(sandbox, github, capsys):
    Path("params.yaml").write_text(Path("params.yaml").read_text() + "\n# edited\n")
    assert main(["promote", "good"]) != 0
    assert "uncommitted changes (params.yaml)" in capsys.readouterr().err
    assert origin_branches(sandbox) == ["main"] and github.state.requests == []


def test_gate_failure_pushes_nothing(sandbox, github, capsys):
    set_gate(sandbox.root, baseline_margin=1.0)  # no model can beat the baseline by 1.0
    files_before = remote_file_count(sandbox)
    assert main(["promote", "good"]) != 0
    err = capsys.readouterr().err
    assert "does not pass the promotion gate" in err and "does not beat the baseline" in err
    assert "Nothing was pushed" in err
    assert origin_branches(sandbox) == ["main"] and BRANCH not in sandbox.git("branch")
    assert remote_file_count(sandbox) == files_before and github.state.requests == []


def test_missing_remotes_are_named_before_anything_is_pushed(sandbox, github, capsys):
    sandbox.git("remote", "remove", "origin")
    assert main(["promote", "good"]) != 0
    assert "no git remote 'origin'" in capsys.readouterr().err
    sandbox.git("remote", "add", "origin", "../origin.git")
    Path(".dvc/config.local").unlink()
    assert main(["promote", "good"]) != 0
    assert "no default DVC remote" in capsys.readouterr().err
    assert origin_branches(sandbox) == ["main"] and github.state.requests == []


def test_api_errors_leave_nothing_pushed(sandbox, github, capsys):
    # 401: the token is checked before anything is pushed
    github.state.fail["GET /"] = (401, {"message": "Bad credentials"})
    assert main(["promote", "good"]) != 0
    assert "HTTP 401: Bad credentials" in capsys.readouterr().err
    assert origin_branches(sandbox) == ["main"] and not github.state.calls("POST", "/pulls")
    del github.state.fail["GET /"]
    # 422 when opening the PR: the pushed branch is deleted again (5xx takes the same path: see
    # test_failed_update_restores_the_previous_branch, and test_github for the client's retries)
    github.state.fail["POST /pulls"] = (422, {"message": "Validation Failed"})
    assert main(["promote", "good"]) != 0
    err = capsys.readouterr().err
    assert "HTTP 422: Validation Failed" in err and "push was undone" in err
    assert origin_branches(sandbox) == ["main"] and github.state.pulls == []


def test_failed_update_restores_the_previous_branch(sandbox, github, capsys):
    assert main(["promote", "good"]) == 0
    first = sandbox.origin_git("rev-parse", BRANCH)
    github.state.fail["PATCH /pulls/N"] = (500, {"message": "Server Error"})
    assert main(["promote", "good"]) != 0
    assert "restored" in capsys.readouterr().err
    assert sandbox.origin_git("rev-parse", BRANCH) == first
