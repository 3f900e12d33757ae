"""The lifecycle's command line: traffic snapshots, experiments, promotion, releases, history, the
reproduction check, GitHub comments and issues (git + DVC + GTO + GitHub). Declared here, light:
pandas, DVC and GTO load when a command runs, not for `fullcycle --help`.
"""

from __future__ import annotations


def register_traffic(add, stage, command) -> None:
    """`fullcycle traffic snapshot`, listed with monitoring (it versions what the service saw)."""
    traffic = add("traffic", None, "captured traffic: version it as data").add_subparsers(
        dest="traffic_command", metavar="<traffic command>", required=True
    )
    p = add(
        "snapshot",
        command("fullcycle.lifecycle.snapshot:cli_traffic_snapshot"),
        "write the captured rows not yet versioned as one DVC-tracked batch under "
        "data/production/ and commit it",
        traffic,
    )
    p.add_argument("--capture-dir", help="where the service captures (default: serve.capture_path)")
    p.add_argument("--out-dir", help="where batches go (default: monitor.production_dir)")
    p.add_argument("--no-commit", action="store_true", help="write and dvc-add, do not commit")


def register(add, stage, command) -> None:
    """Experiments, promotion, releases, history, the reproduction check, GitHub."""
    _experiments(add, command)
    _promotion_and_releases(add, command)
    _github(add, command)


def _experiments(add, command) -> None:
    exp = add("exp", None, "work with DVC experiments").add_subparsers(
        dest="exp_command", metavar="<exp command>", required=True
    )
    p = add(
        "best",
        command("fullcycle.lifecycle.exp_best:cli_exp_best"),
        "name the best experiment",
        exp,
    )
    p.add_argument(
        "--metric",
        help="section.key in reports/eval/metrics.json, or FILE:section.key "
        "(default: test.f1_macro)",
    )
    p.add_argument("--lower", action="store_true", help="lower is better (e.g. a loss)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = add(
        "diff",
        command("fullcycle.lifecycle.exp_diff:cli_exp_diff"),
        "compare two runs on the same test texts: differences with paired intervals, a verdict",
        exp,
    )
    p.add_argument("a", help="the reference: experiment name, branch, tag, commit or `workspace`")
    p.add_argument("b", nargs="?", help="the candidate (default: the workspace)")
    p.add_argument(
        "--split", default="test", choices=["test", "labelled"], help="which predictions to pair"
    )
    p.add_argument("--confidence", type=float, default=0.95, help="of the intervals (default 0.95)")
    p.add_argument("--json", action="store_true", help="print JSON")


def _promotion_and_releases(add, command) -> None:
    p = add(
        "promote",
        command("fullcycle.lifecycle.promote:cli_promote"),
        "check the gate, push an experiment as a branch and open (or update) its pull request",
    )
    p.add_argument("experiment", nargs="?", help="experiment name or sha (default: the best one)")
    p = add(
        "release",
        command("fullcycle.lifecycle.release:cli_release"),
        "on main: register the model version (GTO tag), assign a stage, build the Bento, push tags",
    )
    p.add_argument(
        "--stage", choices=["dev", "prod"], help="stage to assign (default: promote.release_stage)"
    )
    p.add_argument(
        "--bump",
        choices=["auto", "major", "minor", "patch"],
        default="auto",
        help="version bump (auto: major when the labels changed, else minor)",
    )
    p.add_argument("--no-bento", action="store_true", help="skip building the Bento")
    p = add(
        "history",
        command("fullcycle.lifecycle.history:cli_history"),
        "the lifecycle from git: data versions, promotions, releases, stages, with their metrics",
    )
    p.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    p.add_argument("--limit", type=int, help="show only the newest N events")
    since = p.add_mutually_exclusive_group()
    since.add_argument(
        "--since", metavar="REV", help="only events from commit REV on (REV included)"
    )
    since.add_argument(
        "--since-data",
        action="store_true",
        help="only events from the commit that added the data params.yaml trains on "
        "(its .dvc file; `fullcycle data add`), leaving out the template's own",
    )
    add(
        "reproduced",
        command("fullcycle.lifecycle.reproduced:cli_reproduced"),
        "after `dvc repro`: were HEAD's committed metrics reproduced, and which outputs differ "
        "only in bytes (exit 1 when a committed metric differs)",
    )


def _github(add, command) -> None:
    """The GitHub workflows call these."""
    p = add(
        "pr-comment",
        command("fullcycle.lifecycle.report:cli_pr_comment"),
        "post (or update in place) one PR comment with the params and metrics diff against main",
    )
    p.add_argument("--pr", type=int, help="pull request number (default: from GITHUB_EVENT_PATH)")
    p.add_argument(
        "--base", help="git ref to compare with (default: origin/<promote.base>, else it)"
    )
    p.add_argument("--profile", default="", help="what was run, shown in the comment (e.g. tiny)")
    p.add_argument(
        "--main-run",
        metavar="DIR",
        help="compare with main's run of the same profile recorded in DIR (params.yaml, reports/, "
        "commit.txt) instead of main's committed results",
    )
    p = add(
        "issue",
        command("fullcycle.lifecycle.report:cli_issue"),
        "open a GitHub issue, or comment on the open one with the same title",
    )
    p.add_argument("--title", required=True)
    p.add_argument("--body-file", required=True, help="markdown file with the issue text")
    p.add_argument("--label", action="append", default=[], help="label to set (repeatable)")
