"""What the GitHub workflows post: one PR comment with the diff against main, and drift issues.

`fullcycle pr-comment` runs after `dvc repro` on a pull request and compares like with like: the
tiny profile's run with main's tiny run that pipeline.yml recorded on main (`--main-run DIR`), the
full profile's run with main's committed results (`dvc params diff` / `dvc metrics diff`). The
comment names the profile, holds the params and metrics tables and the gate's verdict, and is
edited in place on every push (found by a hidden marker), so a PR carries one per profile.
`fullcycle issue` opens an issue, or comments on the open one with the same title (one per problem).
Without GITHUB_TOKEN both print what they would send.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
from pathlib import Path

from fullcycle.core.errors import FullcycleError
from fullcycle.lifecycle import records
from fullcycle.lifecycle.conf import flatten
from fullcycle.lifecycle.experiments import (
    BASELINE_METRICS,
    BASELINE_PREDICTIONS,
    EVAL_METRICS,
    EVAL_PREDICTIONS,
    Run,
    headline,
)
from fullcycle.lifecycle.gate import check_gate
from fullcycle.lifecycle.gate_settings import diff_table, read_params, settings
from fullcycle.lifecycle.github import GitHub
from fullcycle.lifecycle.gitutil import repo_root, rev_parse

MARKER = "<!-- fullcycle:pr-report:{profile} -->"  # one comment per profile (tiny, full)
PROFILES = {  # what pipeline.yml runs under each profile name
    "tiny": "a random tiny BERT on 40 texts per class for 1 epoch: a smoke test of the pipeline "
    "whose numbers say nothing about the real model, so it is compared with main's tiny run",
    "full": "the real model and data, compared with main's committed results",
}


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


def read_run(root: Path, name: str) -> Run:
    """The metrics and predictions a `dvc repro` left under `root` (the workspace, or a recorded
    run's folder)."""
    from fullcycle.core import evidence

    metrics, predictions = {}, {}
    for path in (EVAL_METRICS, BASELINE_METRICS):
        if (root / path).is_file():
            with contextlib.suppress(json.JSONDecodeError):
                metrics[path] = json.loads((root / path).read_text(encoding="utf-8"))
    for path in (EVAL_PREDICTIONS, BASELINE_PREDICTIONS):
        file = root / path
        text = file.read_text(encoding="utf-8") if file.is_file() else ""
        predictions[path] = evidence.loads(text, str(file)) if text else {}
    return Run(rev=name, name=name, metrics_by_file=metrics, predictions_by_file=predictions)


def base_run(base: str) -> Run:
    """The base branch's committed results (a full run: metrics live in git)."""
    return Run(rev=rev_parse(base) or base, name=base)


def diff_md(what: str, old: dict, new: dict, old_name: str) -> str:
    """A markdown table of the keys whose value differs (flattened), like `dvc ... diff --md`."""
    a, b = flatten(old), flatten(new)
    rows = [k for k in sorted(a.keys() | b.keys()) if a.get(k) != b.get(k)]
    if not rows:
        return ""
    lines = [f"| {what} | {old_name} | this PR |", "|---|---|---|"]
    lines += [f"| {k} | {a.get(k, '—')} | {b.get(k, '—')} |" for k in rows]
    return "\n".join(lines)


def metrics_md(old: Run, new: Run, old_name: str) -> str:
    lines = [f"| Path | Metric | {old_name} | this PR | Change |", "|---|---|---|---|---|"]
    for path in (EVAL_METRICS, BASELINE_METRICS):
        a, b = headline(old.metrics.get(path)), headline(new.metrics.get(path))
        for key in sorted(a.keys() | b.keys()):
            change = f"{b[key] - a[key]:+.4f}" if key in a and key in b else "—"
            lines.append(
                f"| {path} | {key} | {records.fmt(a.get(key))} | {records.fmt(b.get(key))} "
                f"| {change} |"
            )
    return "\n".join(lines) if len(lines) > 2 else ""


def comment_body(base: str, profile: str, main_run: Path | None = None) -> str:
    """The PR comment. With `main_run` (a folder holding main's run of the same profile, as
    pipeline.yml records it on every push to main) the PR's run is compared with it, like with
    like; without it, with the base branch's committed results (the full profile's)."""
    cfg = settings(base, base)
    here = read_run(Path("."), "this PR")
    if main_run is not None:
        recorded = main_run / "commit.txt"
        sha = recorded.read_text().strip()[:7] if recorded.is_file() else None
        against = f"main's {profile} run" + (f" (`{sha}`)" if sha else "")
        reference = read_run(main_run, against)
        params_table = diff_md(
            "param", read_params(main_run / "params.yaml"), read_params("params.yaml"), "main"
        )
        metrics_table = metrics_md(reference, here, "main")
        no_main = f"no {profile} run of main recorded yet"
    else:
        names = {rev_parse(base) or base: base}
        against = f"`{base}`'s committed results"
        reference = base_run(base)
        params_table = diff_table("params", base, None, names)
        metrics_table = diff_table("metrics", base, None, names)
        no_main = f"no model on {base} yet"
    gate = check_gate(here, reference, cfg, no_main)
    verdict = "would pass" if gate.passed else "would NOT pass"
    head = rev_parse("HEAD") or "HEAD"
    what = PROFILES.get(profile, f"the {profile} profile" if profile else "this run")
    return "\n".join(
        [
            f"## fullcycle: this PR's {profile or 'pipeline'} run against {against}",
            "",
            f"Profile: **{profile or 'default'}** — {what}. Commit `{head[:7]}`. "
            f"The promotion gate {verdict}:",
            "",
            gate.table(),
            "",
            "### Params",
            "",
            params_table.strip() or "_No params changed._",
            "",
            "### Metrics",
            "",
            metrics_table.strip() or "_No metrics found._",
            "",
            "<sub>Updated in place by `fullcycle pr-comment` on every push.</sub>" + run_link(),
            MARKER.format(profile=profile or "default"),
        ]
    )


def cli_pr_comment(args: argparse.Namespace) -> int:
    repo_root()
    base = args.base
    if not base:
        branch = settings().base
        base = f"origin/{branch}" if rev_parse(f"origin/{branch}") else branch
    if rev_parse(base) is None:
        raise FullcycleError(
            f"cannot compare with '{base}': no such ref here (fetch it, or pass --base)."
        )
    main_run = Path(args.main_run) if getattr(args, "main_run", None) else None
    body = comment_body(base, args.profile, main_run)
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


def cli_issue(args: argparse.Namespace) -> int:
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
