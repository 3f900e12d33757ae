"""`fullcycle plan`: declared here (torch and Lightning load when it runs)."""

from __future__ import annotations


def register(add, stage, command) -> None:
    add(
        "plan",
        command("fullcycle.plan.planner:cli_plan", stage=True),
        "time a few training steps of the configured model on this machine and estimate train, "
        "a tune study and `dvc repro` against the goal and budget of conf/plan/",
    )
