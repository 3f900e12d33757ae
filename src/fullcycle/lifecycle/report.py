"""What the GitHub workflows post: one PR comment with the diff against main, and drift issues.

`fullcycle pr-comment` runs after `dvc repro` on a pull request: the comment holds `dvc params diff`
and `dvc metrics diff` against the base branch as markdown tables and the gate's verdict, and is
edited in place on every push (found by a hidden marker), so a PR carries one such comment.
`fullcycle issue` opens an issue, or comments on the open one with the same title (one per problem).
Without GITHUB_TOKEN both print what they would send.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
from pathlib import Path

from fullcycle.errors import FullcycleError
from fullcycle.lifecycle.experiments import BASELINE_METRICS, EVAL_METRICS, Run
from fullcycle.lifecycle.github import GitHub
from fullcycle.lifecycle.gitutil import read_tracked, repo_root, rev_parse
from fullcycle.lifecycle.promote import check_gate, diff_table, settings

MARKER = "<!-- fullcycle:pr-report:{profile} -->"  # one comment per profile (tiny, full)


def run_link() -> str:
    """A link to the Actions run that produced this, when running in one."""
    server, repo, run = (
        os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    )
    return (
        f"\n\n[The workflow run]({server}/{repo}/actions/runs/{run})"
        if server and repo and run
        else ""
    )


def pr_number(explicit: int | None) -> int | None:
    """--pr, else the pull request of the Actions event that started this run."""
    if explicit:
        return explicit
    event = os.environ.get("GITHUB_EVENT_PATH")
    if event and Path(event).is_file():
        payload = json.loads(Path(event).read_text(encoding="utf-8"))
        number = (payload.get("pull_request") or {}).get("number") or payload.get("number")
        return int(number) if number else None
    return None


def workspace_run() -> Run:
    """The metrics the workspace holds now (what `dvc repro` just produced)."""
    metrics = {}
    for path in (EVAL_METRICS, BASELINE_METRICS):
        if Path(path).is_file():
            with contextlib.suppress(json.JSONDecodeError):
                metrics[path] = json.loads(Path(path).read_text(encoding="utf-8"))
    return Run(rev="workspace", name="workspace", metrics=metrics)


def base_run(base: str) -> Run:
    text = read_tracked(EVAL_METRICS, base)
    try:
        return Run(rev=base, name=base, metrics={EVAL_METRICS: json.loads(text)} if text else {})
    except json.JSONDecodeError:
        return Run(rev=base, name=base)


def comment_body(base: str, profile: str) -> str:
    cfg = settings(base)
    names = {rev_parse(base) or base: base}
    params_md = diff_table("params", base, None, names)
    metrics_md = diff_table("metrics", base, None, names)
    gate = check_gate(workspace_run(), base_run(base), cfg)
    verdict = "would pass" if gate.passed else "would NOT pass"
    sha = rev_parse("HEAD") or "HEAD"
    return "\n".join(
        [
            f"## fullcycle: this PR against `{base}`"
            + (f" ({profile} profile)" if profile else ""),
            "",
            f"Commit `{sha[:7]}`. The promotion gate {verdict}:",
            "",
            gate.table(),
            "",
            "### Params",
            "",
            params_md.strip() or "_No params changed._",
            "",
            "### Metrics",
            "",
            metrics_md.strip() or "_No metrics found._",
            "",
            "<sub>Updated in place by `fullcycle pr-comment` on every push.</sub>" + run_link(),
            MARKER.format(profile=profile or "default"),
        ]
    )


def pr_comment(args: argparse.Namespace) -> int:
    repo_root()
    base = args.base
    if not base:
        branch = str(settings()["base"])
        base = f"origin/{branch}" if rev_parse(f"origin/{branch}") else branch
    if rev_parse(base) is None:
        raise FullcycleError(
            f"cannot compare with '{base}': no such ref here (fetch it, or pass --base)."
        )
    body = comment_body(base, args.profile)
    number = pr_number(args.pr)
    github = GitHub.from_env()
    if github is None or number is None:
        why = (
            "GITHUB_TOKEN is not set"
            if github is None
            else "no PR number (--pr or GITHUB_EVENT_PATH)"
        )
        print(f"{why}: not posting. The comment would be:\n\n{body}")
        return 0
    marker = MARKER.format(profile=args.profile or "default")
    comment, created = github.upsert_comment(number, body, marker)
    print(
        f"{'posted' if created else 'updated'} comment {comment.get('html_url', comment.get('id'))} on PR #{number}"
    )
    return 0


def issue(args: argparse.Namespace) -> int:
    path = Path(args.body_file)
    if not path.is_file():
        raise FullcycleError(f"--body-file {path} not found: write the issue text there first.")
    body = path.read_text(encoding="utf-8") + run_link()
    github = GitHub.from_env()
    if github is None:
        print(
            f"GITHUB_TOKEN is not set: not opening an issue. It would be titled {args.title!r}:\n\n{body}"
        )
        return 0
    found, created = github.open_issue(args.title, body, list(args.label))
    action = "opened" if created else "commented on the open"
    print(f"{action} issue #{found['number']}: {found.get('html_url', '')}")
    return 0
