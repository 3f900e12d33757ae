"""`fullcycle baseline`: declared here, light (scikit-learn and pandas load when it runs)."""

from __future__ import annotations


def register(add, stage, command) -> None:
    add("baseline", stage("fullcycle.baseline:cli_baseline"), "train and score the TF-IDF baseline")
