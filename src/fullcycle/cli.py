"""`fullcycle <command>`: a thin command line over plain functions (tests call those directly).

Each command names the function that runs it as "module:function"; modules are imported only when
their command runs, so `fullcycle --help` and quick commands never pay for importing torch.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable, Sequence

from fullcycle import __version__
from fullcycle.errors import FullcycleError


def _stage(target: str) -> Callable[[argparse.Namespace], int | None]:
    """A DVC stage: reads params.yaml, takes no arguments."""

    def run(_: argparse.Namespace) -> int | None:
        module, func = target.split(":")
        return getattr(importlib.import_module(module), func)()

    return run


def _command(target: str) -> Callable[[argparse.Namespace], int | None]:
    """A command that takes its parsed arguments."""

    def run(args: argparse.Namespace) -> int | None:
        module, func = target.split(":")
        return getattr(importlib.import_module(module), func)(args)

    return run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fullcycle",
        description="Git-native lifecycle for fine-tuned text classifiers. "
        "Run from the project root (where dvc.yaml and params.yaml are).",
    )
    parser.add_argument("--version", action="version", version=f"fullcycle {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", metavar="<command>", required=True)

    def add(name: str, handler: Callable, help: str, parent=sub) -> argparse.ArgumentParser:
        p = parent.add_parser(name, help=help, description=help)
        p.set_defaults(handler=handler)
        return p

    # --- pipeline stages (dvc.yaml runs these; each reads params.yaml) -------------------------
    add(
        "prepare", _stage("fullcycle.data.prepare:main"), "read, validate, clean and split the data"
    )
    add("baseline", _stage("fullcycle.baseline:main"), "train and score the TF-IDF baseline")

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
    p.add_argument("--labels", help="comma-separated allowed labels (default: data.labels)")
    p.add_argument("--no-labels", action="store_true", help="unlabelled texts: labels optional")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        code = args.handler(args)
    except FullcycleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
