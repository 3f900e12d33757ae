"""`fullcycle promote`: the gate, the branch, the pushes and the PR — or a clear refusal, nothing pushed."""

from __future__ import annotations

import json
import time
from pathlib import Path

import yaml

from fullcycle.cli import main
from fullcycle.lifecycle import experiments, records
from tests.lifecycle.conftest import set_gate

BRANCH = "promote/good"


def origin_branches(box) -> list[str]:
    return box.origin_git("branch", "--format=%(refname:short)").split()


def remote_file_count(box) -> int:
    return sum(1 for p in (box.base / "dvc-remote").rglob("*") if p.is_file())


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
    exp_sha = experiments.find("good").rev
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
    err = capsys.readouterr().err
    assert "uncommitted changes in params.yaml are not part of an experiment" in err
    assert "git stash" in err
    assert origin_branches(sandbox) == ["main"] and github.state.requests == []


def test_gate_failure_pushes_nothing(sandbox, github, capsys):
    set_gate(sandbox.root, baseline_margin=1.0)  # no model can beat the baseline by 1.0
    sandbox.git("push", "-q", "origin", "main")  # the gate is read from origin's main
    files_before = remote_file_count(sandbox)
    assert main(["promote", "good"]) != 0
    err = capsys.readouterr().err
    assert "does not pass the promotion gate" in err and "vs baseline: f1_macro" in err
    assert "(95% interval " in err
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
    err = capsys.readouterr().err
    assert "no default DVC remote" in err and "dvc remote add --local -d NAME" in err
    assert origin_branches(sandbox) == ["main"] and github.state.requests == []


def test_an_origin_without_a_default_branch_is_named_and_nothing_is_pushed(sandbox, github, capsys):
    # a bare origin made without `-b main` points HEAD at a branch nobody pushed
    sandbox.origin_git("symbolic-ref", "HEAD", "refs/heads/master")
    assert main(["promote", "good"]) == 2
    err = capsys.readouterr().err
    assert "origin does not say which branch is its default" in err
    assert "symbolic-ref HEAD refs/heads/main" in err
    assert origin_branches(sandbox) == ["main"] and github.state.requests == []


def test_api_errors_leave_nothing_pushed(sandbox, github, capsys):
    # 401: the token is checked before anything is pushed
    github.state.fail["GET /"] = (401, {"message": "Bad credentials"})
    assert main(["promote", "good"]) != 0
    assert "HTTP 401: Bad credentials" in capsys.readouterr().err
    assert origin_branches(sandbox) == ["main"] and not github.state.calls("POST", "/pulls")
    del github.state.fail["GET /"]
    # 422 when opening the PR: the pushed branch is deleted again, and the message says so (5xx takes the same path: see
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


def merge_on_origin(box, branch: str, dest: Path) -> Path:
    """What GitHub's merge button does: merge `branch` into origin's main. Returns a fresh clone
    of origin's main after the merge."""
    from tests.conftest import git

    merger = dest / "merger"
    git(dest, "clone", "-q", str(box.origin), str(merger))
    git(merger, "merge", "-q", "--no-ff", f"origin/{branch}", "-m", f"Merge {branch}")
    git(merger, "push", "-q", "origin", "main")
    clone = dest / "clone"
    git(dest, "clone", "-q", str(box.origin), str(clone))
    return clone


def test_promotion_writes_the_overrides_into_conf(sandbox, github, tmp_path):
    """`weak` ran with -S model=tiny -S trainer.max_epochs=1 -S train.lr=0.00001 on a main that
    composes MiniLM: after promote and merge, conf/ composes to exactly its params.yaml."""
    from tests.conftest import run

    assert main(["promote", "weak"]) == 0
    clone = merge_on_origin(sandbox, "promote/weak", tmp_path)
    assert run(clone, "fullcycle", "params", "--check").returncode == 0
    config = (clone / "conf/config.yaml").read_text()
    assert "- model: tiny      # which transformer to fine-tune" in config  # comment kept
    assert "lr: 1.0e-05" in (clone / "conf/train/default.yaml").read_text()
    trainer = (clone / "conf/trainer/cpu.yaml").read_text()
    assert "max_epochs: 1          # with early stopping" in trainer
    # `fullcycle params` on main now writes the promoted values, not the old ones
    run(clone, "fullcycle", "params")
    assert run(clone, "git", "status", "--porcelain").stdout == ""
    weak = sandbox.git("show", "refs/heads/promote/weak~1:params.yaml")
    assert yaml.safe_load(weak) == yaml.safe_load((clone / "params.yaml").read_text())


def test_an_applied_experiment_does_not_block_promote(sandbox, github, capsys):
    """After `dvc exp run` (or `dvc exp apply`) the workspace holds an experiment's params.yaml
    and dvc.lock: promote builds from the experiment's commit, so that is not dirt."""
    from tests.conftest import run

    # (exit 255: the experiments ran up to evaluate, so no bento to check out; the rest is applied)
    run(sandbox.root, "dvc", "exp", "apply", "weak", check=False)
    assert sandbox.git("status", "--porcelain", "--untracked-files=no")  # params.yaml, ...
    assert main(["promote", "good"]) == 0  # another experiment than the applied one
    assert "opened pull request #1" in capsys.readouterr().out
    # other dirt still blocks, naming the file and what to do
    Path("conf/train/default.yaml").write_text("lr: 0.5\n")
    assert main(["promote", "good"]) == 2
    err = capsys.readouterr().err
    assert "conf/train/default.yaml" in err and "git stash" in err


def test_the_gate_is_read_from_origin_not_the_local_branch(sandbox, github, capsys):
    """origin's main has a strict gate; the local main (or a candidate) a loose one."""
    set_gate(sandbox.root, baseline_margin=1.0)
    sandbox.git("push", "-q", "origin", "main")
    sandbox.git("reset", "-q", "--hard", "HEAD~1")  # local main: margin -1.0 again
    assert main(["promote", "good"]) == 1
    err = capsys.readouterr().err
    assert "vs baseline: f1_macro" in err and "better beyond noise by > 1" in err
    assert origin_branches(sandbox) == ["main"]


def test_a_failed_undo_is_reported_as_failed(sandbox, github, capsys):
    hook = sandbox.origin / "hooks" / "pre-receive"  # origin refuses branch deletions
    hook.write_text(
        "#!/bin/sh\nwhile read old new ref; do\n"
        '  case "$new" in 0000000000000000000000000000000000000000) '
        "echo 'deletions are protected' >&2; exit 1;; esac\ndone\n"
    )
    hook.chmod(0o755)
    github.state.fail["POST /pulls"] = (422, {"message": "Validation Failed"})
    assert main(["promote", "good"]) != 0
    err = capsys.readouterr().err
    assert (
        "Undoing the branch push FAILED" in err and "git push origin --delete promote/good" in err
    )
    assert "push was undone" not in err
    assert BRANCH in origin_branches(sandbox)


def dvc_remote_in_tracked_config(box) -> None:
    """What a new user does when promote asks for a remote: `dvc remote add -d NAME URL`, which
    edits the tracked .dvc/config (the sandbox's own remote is in .dvc/config.local: gone)."""
    from tests.conftest import run

    Path(".dvc/config.local").unlink()
    run(box.root, "dvc", "remote", "add", "-d", "team", "../dvc-remote")


def test_an_uncommitted_dvc_remote_is_named_alone_and_a_local_one_works(sandbox, github, capsys):
    """The issue: after `dvc exp run` (the experiment applied) and `dvc remote add -d`, promote
    blamed the experiment's own params.yaml, dvc.lock and reports/ too. Only .dvc/config is in
    the way, and the refusal says so with both ways out."""
    from tests.conftest import run

    run(sandbox.root, "dvc", "exp", "apply", "good", check=False)  # what `dvc exp run` leaves
    dvc_remote_in_tracked_config(sandbox)
    files_before = remote_file_count(sandbox)
    dirty = sandbox.git("status", "--porcelain", "--untracked-files=no")
    assert "params.yaml" in dirty and ".dvc/config" in dirty
    assert main(["promote", "good"]) == 2
    err = capsys.readouterr().err
    assert "uncommitted changes in .dvc/config are not part of an experiment" in err
    assert "params.yaml" not in err and "dvc.lock" not in err and "reports/" not in err
    assert "git commit -m 'DVC remote' .dvc/config" in err
    assert "dvc remote add --local -d NAME URL" in err
    assert origin_branches(sandbox) == ["main"] and remote_file_count(sandbox) == files_before

    # the personal way out, as the message says: the untracked .dvc/config.local
    sandbox.git("restore", ".dvc/config")
    run(sandbox.root, "dvc", "remote", "add", "--local", "-d", "mine", "../dvc-remote")
    assert main(["promote", "good"]) == 0
    assert "to DVC remote 'mine'" in capsys.readouterr().out
    assert BRANCH in origin_branches(sandbox) and remote_file_count(sandbox) > files_before


def test_a_committed_dvc_remote_lets_promote_proceed(sandbox, github, capsys):
    """The team's way out: the remote committed on main. HEAD is then a commit no experiment
    was run from, but nothing the pipeline reads changed: promote (no name) still finds them,
    and the data goes to the remote the experiment's own commit does not name."""
    dvc_remote_in_tracked_config(sandbox)
    sandbox.git("commit", "-qm", "DVC remote", ".dvc/config")
    files_before = remote_file_count(sandbox)
    assert main(["exp", "best"]) == 0
    assert "best experiment: " in capsys.readouterr().out
    assert main(["promote"]) == 0
    out = capsys.readouterr().out
    assert "to DVC remote 'team'" in out and "opened pull request #1" in out
    [pull] = github.state.pulls
    exp = experiments.find(pull["head"]["ref"].removeprefix("promote/"))
    assert exp.baseline == sandbox.git("rev-parse", "HEAD~1")  # run before the remote commit
    assert remote_file_count(sandbox) > files_before  # the model went to the committed remote
