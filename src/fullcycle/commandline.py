"""What the steps' `commands` modules declare their sub-commands with: `add`, `stage`, `command`.

A handler names the function that runs it as "module:function", imported only when the command
runs, so building the parser (and `fullcycle --help`) never imports torch, pandas or BentoML.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable

Handler = Callable[[argparse.Namespace], int | None]
Add = Callable[..., argparse.ArgumentParser]


def with_overrides(args: argparse.Namespace, call: Callable[[], int | None]) -> int | None:
    """Run a stage with this run's Hydra overrides (`fullcycle train model=tiny`), if any:
    conf/ composed with them replaces params.yaml for this process; the file is not touched."""
    values = list(getattr(args, "overrides", None) or [])
    if not values:
        return call()
    from fullcycle.core import params

    with params.overrides(values):
        print(
            f"{args.command}: conf/ composed with {' '.join(values)} for this run only "
            "(params.yaml unchanged; `dvc exp run -S` keeps a run as an experiment)",
            file=sys.stderr,
        )
        return call()


def stage(target: str) -> Handler:
    """A DVC stage: reads params.yaml; by hand it takes Hydra overrides for that run only."""

    def run(args: argparse.Namespace) -> int | None:
        module, func = target.split(":")
        return with_overrides(args, getattr(importlib.import_module(module), func))

    run.takes_overrides = True  # type: ignore[attr-defined]
    return run


def command(target: str, stage: bool = False) -> Handler:
    """A command that takes its parsed arguments (`stage`: a DVC stage too, so it also takes
    Hydra overrides for that run only, like `stage()`)."""

    def run(args: argparse.Namespace) -> int | None:
        module, func = target.split(":")
        call = getattr(importlib.import_module(module), func)
        return with_overrides(args, lambda: call(args)) if stage else call(args)

    run.takes_overrides = stage  # type: ignore[attr-defined]
    return run


def adder(sub: argparse._SubParsersAction) -> Add:
    """`add(name, handler, help, parent=sub)`: one sub-command (a group when `handler` is None);
    a stage's handler gets the positional KEY=VALUE overrides."""

    def add(name: str, handler: Handler | None, help: str, parent=sub) -> argparse.ArgumentParser:
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

    return add


def register(add: Add, modules: list[str]) -> None:
    """Each entry's commands, in order: "module" calls its `register(add, stage, command)`,
    "module:function" another such function of it (a module whose commands sit in two sections)."""
    for entry in modules:
        module, _, function = entry.partition(":")
        getattr(importlib.import_module(module), function or "register")(add, stage, command)


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
