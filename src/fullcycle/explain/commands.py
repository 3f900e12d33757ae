"""The explain step's sub-command (light: torch is imported only when it runs)."""

from __future__ import annotations


def register(add, stage, command) -> None:
    add(
        "explain",
        stage("fullcycle.explain.stage:cli_explain"),
        "which words drove the predictions on selected test texts: reports/explain/ (a DVC stage)",
    )
