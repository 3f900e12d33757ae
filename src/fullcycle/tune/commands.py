"""The `fullcycle tune` command line (light: Optuna and torch are imported when it runs)."""

from __future__ import annotations


def register(add, stage, command) -> None:
    p = add(
        "tune",
        command("fullcycle.tune.search:cli_tune"),
        "hyper-parameter search (tpe | random | grid); every trial is a DVC experiment "
        "<study>-<number>; the study maximises validation macro-F1",
    )
    p.add_argument("--sampler", choices=["tpe", "random", "grid"], help="default: conf/tune")
    p.add_argument("--trials", type=int, help="finished trials the study ends with")
    p.add_argument(
        "--seeds",
        type=int,
        help="training runs per trial, seeds s, s+1, ... (s: params' seed); the trial's value is "
        "their mean (default: conf/tune's `seeds`, 1)",
    )
    p.add_argument("--study", help="study name (default: conf/tune's `study`)")
    p.add_argument(
        "--storage",
        metavar="URL",
        help="any SQLAlchemy URL, e.g. postgresql://user@host/db to share the study between "
        "machines (default: sqlite:///.fullcycle/tune/<study>.db)",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="trials at a time on this machine (each in a temporary copy: `dvc exp run --temp`)",
    )
    p.add_argument(
        "--space", default="default", help="conf/tune/NAME.yaml, or a YAML file (default: default)"
    )
    p.add_argument(
        "-S",
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="a fixed override for every trial (as `dvc exp run -S`), e.g. -S model=tiny",
    )
    p.add_argument("--show", action="store_true", help="print the study's results and exit")
