"""`fullcycle <command>`: a thin command line over plain functions (tests call those directly).

Each step declares its sub-commands in a light module next to its code (fullcycle.commandline);
this file assembles them in `--help` order. A command's code is imported only when it runs.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Sequence

from fullcycle import __version__, commandline
from fullcycle.core.errors import FullcycleError

# "module": its register(add, stage, command); "module:function": another register function of it.
COMMAND_MODULES: list[str] = [
    "fullcycle.data.commands:register_stage",  # stages (dvc.yaml's; by hand: KEY=VALUE overrides)
    "fullcycle.baseline_commands",
    "fullcycle.train.commands",
    "fullcycle.explain.commands",
    "fullcycle.evaluate.commands",
    "fullcycle.optimize.commands",
    "fullcycle.serve.commands",  # package and serve (BentoML)
    "fullcycle.monitor.commands",  # monitoring (Evidently), the captured traffic as data
    "fullcycle.lifecycle.commands:register_traffic",
    "fullcycle.core.commands",  # configuration: params
    "fullcycle.data.commands",  # data: validate, add; labelling
    "fullcycle.label.commands",
    "fullcycle.plan.commands",  # planning: the goal, the budget, what a run will take here
    "fullcycle.tune.commands",  # lifecycle: experiments, promotion, releases, history, GitHub
    "fullcycle.lifecycle.commands",
    "fullcycle.project.commands",  # a project of your own: init, init --update
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fullcycle",
        description="Git-native lifecycle for fine-tuned text classifiers. "
        "Run from the project root (where dvc.yaml and params.yaml are).",
    )
    parser.add_argument("--version", action="version", version=f"fullcycle {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    debug = "on an error, print the traceback too (and log details)"
    parser.add_argument("--debug", action="store_true", help=debug)
    sub = parser.add_subparsers(dest="command", metavar="<command>", required=True)
    commandline.register(commandline.adder(sub), COMMAND_MODULES)
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
    except KeyboardInterrupt as exc:  # Ctrl-C; a stage may say what the next run will do
        print(f"interrupted: {exc}" if str(exc) else "interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a FullcycleError: its exit code; anything else (a bug): 2, never 1
        if args.debug:
            traceback.print_exc()
        known = isinstance(exc, FullcycleError)
        print(f"error: {exc if known else commandline.unexpected(exc)}", file=sys.stderr)
        return exc.exit_code if known else 2
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
