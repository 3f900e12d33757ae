"""`fullcycle train`: declared here, next to the step (torch and Lightning load when it runs)."""

from __future__ import annotations


def register(add, stage, command) -> None:
    add(
        "train",
        stage("fullcycle.train.stage:cli_train"),
        "fine-tune the transformer (resumes if interrupted)",
    )
