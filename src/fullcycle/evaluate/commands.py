"""`fullcycle evaluate`: declared here, next to the step (torch loads when it runs)."""

from __future__ import annotations


def register(add, stage, command) -> None:
    add(
        "evaluate",
        stage("fullcycle.evaluate.stage:cli_evaluate"),
        "score the model on the test split, write the model card",
    )
