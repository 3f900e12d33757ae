"""`fullcycle init`: a new project from fullcycle's template, or a newer template merged into one
(light at import: copier, pandas and git run only when the command does)."""

from __future__ import annotations

import argparse


def register(add, stage, command) -> None:
    from fullcycle.data.commands import data_options

    p = add(
        "init",
        command("fullcycle.project.init:cli_init"),
        "make a new project repository (DVC pipeline, conf/, workflows, your data tracked by "
        "DVC, one commit) that depends on fullcycle; --update takes a newer fullcycle's template",
    )
    p.add_argument("dir", nargs="?", help="the new project's folder (new, or empty)")
    p.add_argument("--data", help="your labelled texts: a CSV, TSV, JSONL or Parquet file")
    p.add_argument("--example", help="a ready project instead of your data: bbc (BBC News)")
    data_options(p)
    plan = p.add_argument_group("the plan (conf/plan/, conf/promote/; default: the template's)")
    plan.add_argument("--goal-metric", choices=["test.accuracy", "test.f1_macro"])
    plan.add_argument("--goal-target", type=float, help="the value the project aims at, e.g. 0.9")
    plan.add_argument(
        "--train-minutes", type=float, help="how long one train may take on this machine"
    )
    plan.add_argument(
        "--gpu", action=argparse.BooleanOptionalAction, help="whether training may use a GPU"
    )
    plan.add_argument(
        "--gate-rule",
        choices=["superior", "non_inferior"],
        help="the promotion gate vs main: better beyond noise, or not worse by --gate-margin",
    )
    plan.add_argument("--gate-margin", type=float, help="the gate's margin (e.g. 0.01)")
    p.add_argument(
        "--requirement",
        help="how the project names its fullcycle dependency (default: the checkout this "
        "fullcycle is installed from, else fullcycle==<this version>)",
    )
    p.add_argument(
        "--update",
        action="store_true",
        help="in a project made by `fullcycle init`: merge this fullcycle's template into it "
        "(copier update; conflicts are shown, never resolved for you)",
    )
    p.add_argument(
        "--template-repo",
        help="with --update, offline: a local clone of fullcycle's repository that has the "
        "release tag the project was made from",
    )
