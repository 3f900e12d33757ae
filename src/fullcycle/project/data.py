"""The data a new project starts from: checked before anything is written.

`fullcycle init --data FILE` reads the file with the template's data settings (conf/data/bbc.yaml
of the project it will render) and the flags on top, with the same checks and errors as
`fullcycle data validate`: a file that fails is named with every problem, and no project is made.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from fullcycle.core.errors import FullcycleError


@dataclass
class DataFile:
    path: Path
    name: str  # its name under data/raw/
    text_col: str
    label_col: str
    labels: list[str] | None
    on_conflict: str
    summary: str  # rows and classes, for the first commit's message

    def settings(self) -> dict[str, str]:
        """The read settings that differ from the template's (the flags given): conf/ gets these."""
        from fullcycle.data.commands import template_defaults

        base = template_defaults()
        keys = ("text_col", "label_col", "on_conflict")
        return {k: getattr(self, k) for k in keys if getattr(self, k) != base[k]}


def check_data(args: argparse.Namespace) -> DataFile:
    from fullcycle.core.validate import load_and_validate
    from fullcycle.data.commands import data_config
    from fullcycle.lifecycle.data_add import destination

    src = Path(args.data)
    if not src.is_file():
        raise FullcycleError(f"--data {src}: no such file. Give a CSV, TSV, JSONL or Parquet file.")
    data = data_config(args, in_project=False)
    validation = load_and_validate(data, path=str(src))
    clean = validation.raise_if_invalid(
        int(data.max_errors),
        hint=f"{src} is not valid, so no project was created: fix the rows above.",
    )
    classes = clean["label"].value_counts().sort_index()
    return DataFile(
        path=src.resolve(),  # init builds the project from another working directory
        name=destination(src, None).name,
        text_col=str(data.text_col),
        label_col=str(data.label_col),
        labels=list(data.labels) if data.get("labels") else None,
        on_conflict=str(data.on_conflict),
        summary=f"{len(clean)} rows in {len(classes)} classes ("
        + ", ".join(f"{k} {v}" for k, v in classes.items())
        + ")",
    )
