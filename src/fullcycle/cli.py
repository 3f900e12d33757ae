"""`fullcycle <command>`: a thin command line over plain functions (tests call those directly).

Each command names the function that runs it as "module:function"; modules are imported only when
their command runs, so `fullcycle --help` and quick commands never pay for importing torch.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import traceback
from collections.abc import Callable, Sequence

from fullcycle import __version__
from fullcycle.errors import FullcycleError

# Lifecycle steps that declare their own sub-commands: each module has a light (no torch at import)
# `register(add, stage, command)` that adds its parsers next to the functions they call.
COMMAND_MODULES: list[str] = [
    "fullcycle.optimize.commands",
    "fullcycle.explain.commands",
    "fullcycle.tune.commands",
    "fullcycle.lifecycle.traffic",
    "fullcycle.lifecycle.reproduced",
    "fullcycle.label.commands",
]


def _with_overrides(args: argparse.Namespace, call: Callable[[], int | None]) -> int | None:
    """Run a stage with this run's Hydra overrides (`fullcycle train model=tiny`), if any:
    conf/ composed with them replaces params.yaml for this process; the file is not touched."""
    values = list(getattr(args, "overrides", None) or [])
    if not values:
        return call()
    from fullcycle import params

    with params.overrides(values):
        print(
            f"{args.command}: conf/ composed with {' '.join(values)} for this run only "
            "(params.yaml unchanged; `dvc exp run -S` keeps a run as an experiment)",
            file=sys.stderr,
        )
        return call()


def _stage(target: str) -> Callable[[argparse.Namespace], int | None]:
    """A DVC stage: reads params.yaml; by hand it takes Hydra overrides for that run only."""

    def run(args: argparse.Namespace) -> int | None:
        module, func = target.split(":")
        return _with_overrides(args, getattr(importlib.import_module(module), func))

    run.takes_overrides = True  # type: ignore[attr-defined]
    return run


def _command(target: str, stage: bool = False) -> Callable[[argparse.Namespace], int | None]:
    """A command that takes its parsed arguments (`stage`: a DVC stage too, so it also takes
    Hydra overrides for that run only, like `_stage`)."""

    def run(args: argparse.Namespace) -> int | None:
        module, func = target.split(":")
        call = getattr(importlib.import_module(module), func)
        return _with_overrides(args, lambda: call(args)) if stage else call(args)

    run.takes_overrides = stage  # type: ignore[attr-defined]
    return run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fullcycle",
        description="Git-native lifecycle for fine-tuned text classifiers. "
        "Run from the project root (where dvc.yaml and params.yaml are).",
    )
    parser.add_argument("--version", action="version", version=f"fullcycle {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="on an error, print the traceback too (and log details)",
    )
    sub = parser.add_subparsers(dest="command", metavar="<command>", required=True)

    def add(name: str, handler: Callable, help: str, parent=sub) -> argparse.ArgumentParser:
        p = parent.add_parser(name, help=help, description=help)
        p.set_defaults(handler=handler)
        if getattr(handler, "takes_overrides", False):
            p.add_argument(
                "overrides",
                nargs="*",
                metavar="KEY=VALUE",
                help="Hydra overrides for this run only, e.g. model=tiny trainer.max_epochs=1 "
                "(conf/ is composed with them; params.yaml is not touched)",
            )
        # `fullcycle monitor --debug` works as well as `fullcycle --debug monitor` (SUPPRESS: an
        # absent sub-command flag must not reset the global one)
        p.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
        )
        return p

    # --- pipeline stages (dvc.yaml runs these; each reads params.yaml) -------------------------
    add(
        "prepare", _stage("fullcycle.data.prepare:main"), "read, validate, clean and split the data"
    )
    add("baseline", _stage("fullcycle.baseline:main"), "train and score the TF-IDF baseline")
    add(
        "train",
        _stage("fullcycle.train.stage:main"),
        "fine-tune the transformer (resumes if interrupted)",
    )
    add(
        "evaluate",
        _stage("fullcycle.evaluate.stage:main"),
        "score the model on the test split, write the model card",
    )

    # --- package and serve (BentoML) ----------------------------------------------------------
    add(
        "package",
        _stage("fullcycle.serve.package:main"),
        "store the model in BentoML, build the bento, export bentos/classifier.bento",
    )
    p = add(
        "serve",
        _command("fullcycle.serve.launch:main"),
        "serve the model over HTTP from source (POST /classify, GET /metadata)",
    )
    p.add_argument("--model-dir", help="the model directory (default: serve.model_dir)")
    p.add_argument("--host", help="bind address (default: serve.host)")
    p.add_argument("--port", type=int, help="port (default: serve.port)")
    p.add_argument(
        "--capture",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="record masked requests and predictions to serve.capture_path (default: serve.capture)",
    )

    # --- monitoring (Evidently) -----------------------------------------------------------------
    p = add(
        "monitor",
        _command("fullcycle.monitor.stage:main", stage=True),
        "drift between the training texts and current traffic (the monitor stage: reports/drift/)",
    )
    p.add_argument(
        "--current",
        metavar="PATH",
        help="check this CSV/TSV/JSONL/Parquet file (text column, labels optional) instead of "
        "the captured traffic or the held-out production split",
    )
    p.add_argument(
        "--fail-on-drift", action="store_true", help="exit 1 when drift is detected (CI gate)"
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        help="where to write the report (default: reports/adhoc/drift, git-ignored; the monitor "
        "stage passes reports/drift)",
    )

    # --- configuration ------------------------------------------------------------------------
    p = add("params", _command("fullcycle.params:main"), "compose conf/ into params.yaml")
    p.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. model=tiny train.lr=3e-5")
    p.add_argument("--check", action="store_true", help="exit 1 if params.yaml differs from conf/")

    # --- data ---------------------------------------------------------------------------------
    data = add("data", None, "work with data files").add_subparsers(
        dest="data_command", metavar="<data command>", required=True
    )
    p = add("validate", _command("fullcycle.data.commands:validate"), "check a data file", data)
    p.add_argument("path", help="a CSV, TSV, JSONL or Parquet file")
    p.add_argument("--text-col", help="the text column (default: data.text_col, else 'text')")
    p.add_argument("--label-col", help="the label column (default: data.label_col, else 'label')")
    p.add_argument(
        "--labels", help="comma-separated labels; each must have rows (default: data.labels)"
    )
    p.add_argument(
        "--on-conflict",
        choices=["error", "majority", "drop"],
        help="one text with several labels: error, keep the majority label, or drop the text "
        "(default: data.on_conflict)",
    )
    p.add_argument("--no-labels", action="store_true", help="unlabelled texts: labels optional")
    p = add(
        "add",
        _command("fullcycle.lifecycle.data_add:add"),
        "validate a data file, track it with DVC under data/raw/, switch params to it and commit",
        data,
    )
    p.add_argument("path", help="a CSV, TSV, JSONL or Parquet file with text and label columns")
    p.add_argument("--name", help="file name under data/raw/ (default: the file's own name)")
    p.add_argument("--text-col", help="the text column (default: data.text_col, else 'text')")
    p.add_argument("--label-col", help="the label column (default: data.label_col, else 'label')")
    p.add_argument(
        "--labels", help="comma-separated labels; each must have rows (saved as data.labels)"
    )
    p.add_argument(
        "--on-conflict",
        choices=["error", "majority", "drop"],
        help="one text with several labels: error, majority or drop (saved as data.on_conflict)",
    )

    # --- lifecycle: experiments, promotion, releases (git + DVC + GTO + GitHub) ---------------
    exp = add("exp", None, "work with DVC experiments").add_subparsers(
        dest="exp_command", metavar="<exp command>", required=True
    )
    p = add(
        "best",
        _command("fullcycle.lifecycle.experiments:main_best"),
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
        _command("fullcycle.lifecycle.exp_diff:main_diff"),
        "compare two runs on the same test texts: differences with paired intervals, a verdict",
        exp,
    )
    from fullcycle.lifecycle.exp_diff import arguments as diff_arguments

    diff_arguments(p)
    p = add(
        "promote",
        _command("fullcycle.lifecycle.promote:promote"),
        "check the gate, push an experiment as a branch and open (or update) its pull request",
    )
    p.add_argument("experiment", nargs="?", help="experiment name or sha (default: the best one)")
    p = add(
        "release",
        _command("fullcycle.lifecycle.release:release"),
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
        _command("fullcycle.lifecycle.history:main"),
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
    p = add(
        "pr-comment",
        _command("fullcycle.lifecycle.report:pr_comment"),
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
        _command("fullcycle.lifecycle.report:issue"),
        "open a GitHub issue, or comment on the open one with the same title",
    )
    p.add_argument("--title", required=True)
    p.add_argument("--body-file", required=True, help="markdown file with the issue text")
    p.add_argument("--label", action="append", default=[], help="label to set (repeatable)")

    for name in COMMAND_MODULES:
        importlib.import_module(name).register(add, _stage, _command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Exit codes: 0 ok, 1 the verdict a gate asked for (drift, a refused promotion, invalid data
    from `data validate`), 2 any error, expected or not: one line, the traceback only with --debug."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose or args.debug else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        code = args.handler(args)
    except FullcycleError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:  # Ctrl-C; a stage may say what the next run will do
        print(f"interrupted: {exc}" if str(exc) else "interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug or an unreadable input nobody anticipated: still exit 2, not 1
        if args.debug:
            traceback.print_exc()
        print(f"error: {unexpected(exc)}", file=sys.stderr)
        return 2
    return int(code or 0)


def unexpected(exc: BaseException) -> str:
    """One line for an exception fullcycle did not anticipate: its type, its first line, and how
    to see more."""
    lines = str(exc).strip().splitlines()
    first = lines[0].strip() if lines else ""
    more = " ..." if len(lines) > 1 else ""
    return (
        f"{type(exc).__name__}{': ' + first if first else ''}{more} "
        "(unexpected; run `fullcycle --debug ...` for the traceback)"
    )


if __name__ == "__main__":
    sys.exit(main())
