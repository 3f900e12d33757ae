"""`fullcycle data validate`: the prepare stage's checks on any file, every problem listed."""

from __future__ import annotations

import argparse
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from fullcycle import params
from fullcycle.data.prepare import load_and_validate
from fullcycle.errors import DataError


def parse_labels(text: str) -> list[str]:
    """`--labels a,b,c` as a list (blanks ignored)."""
    return [x.strip() for x in text.split(",") if x.strip()]


def data_config(args: argparse.Namespace) -> DictConfig:
    """The `data` params (if a params.yaml is here) with the command-line flags on top."""
    base = {
        "text_col": "text",
        "label_col": "label",
        "labels": None,
        "min_rows_per_class": 10,
        "max_errors": 20,
        "on_conflict": "error",
    }
    if Path(params.PARAMS_FILE).is_file():
        data = params.load().get("data", {})
        base |= {k: data[k] for k in base if k in data}
    for key in ("text_col", "label_col", "on_conflict"):
        if getattr(args, key, None):
            base[key] = getattr(args, key)
    if getattr(args, "labels", None):
        base["labels"] = parse_labels(args.labels)
    return OmegaConf.create(base | {"source": "file"})


def validate(args: argparse.Namespace) -> int:
    data = data_config(args)
    try:
        result = load_and_validate(data, path=args.path, require_labels=not args.no_labels)
        if not result.ok:
            raise DataError(
                result.problems[: int(data.max_errors)],
                total=len(result.problems),
                hint=f"{args.path} is not valid: fix the rows above and validate again.",
            )
    except DataError as exc:
        exc.exit_code = 1  # "invalid" is the verdict `data validate` was asked for
        raise
    clean = result.clean
    classes = clean["label"].value_counts().sort_index()
    print(
        f"{args.path}: valid. {result.rows} rows, {result.duplicates} exact duplicates "
        f"(dropped by prepare), {len(clean)} distinct rows"
        + (
            ""
            if args.no_labels
            else f" in {len(classes)} classes: " + ", ".join(f"{k} {v}" for k, v in classes.items())
        )
    )
    if result.conflicts.texts:
        print(result.conflicts.describe())
    return 0
