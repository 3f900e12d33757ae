"""The data step's command line: `fullcycle prepare` (the stage), `fullcycle data validate` (the
prepare stage's checks on any file, every problem listed) and `fullcycle data add` (lifecycle's: it
commits), which reads a file with the same options. Light at import: pandas and OmegaConf load when
a command runs, not for `fullcycle --help`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from fullcycle.core.errors import DataError

if TYPE_CHECKING:
    from omegaconf import DictConfig


def register_stage(add, stage, command) -> None:
    """`fullcycle prepare`, listed with the other stages."""
    add(
        "prepare",
        stage("fullcycle.data.prepare:cli_prepare"),
        "read, validate, clean and split the data",
    )


def register(add, stage, command) -> None:
    """`fullcycle data validate` and `fullcycle data add`."""
    data = add("data", None, "work with data files").add_subparsers(
        dest="data_command", metavar="<data command>", required=True
    )
    p = add(
        "validate", command("fullcycle.data.commands:cli_data_validate"), "check a data file", data
    )
    p.add_argument("path", help="a CSV, TSV, JSONL or Parquet file")
    data_options(p)
    p.add_argument("--no-labels", action="store_true", help="unlabelled texts: labels optional")
    p = add(
        "add",
        command("fullcycle.lifecycle.data_add:cli_data_add"),
        "validate a data file, track it with DVC under data/raw/, switch params to it and commit",
        data,
    )
    p.add_argument("path", help="a CSV, TSV, JSONL or Parquet file with text and label columns")
    p.add_argument("--name", help="file name under data/raw/ (default: the file's own name)")
    data_options(p, saved=True)


def data_options(p: argparse.ArgumentParser, saved: bool = False) -> None:
    """--text-col, --label-col, --labels, --on-conflict: how a file is read (default: the `data`
    params); `data add` also saves the ones given as the new file's `data` params."""

    def default(key: str, fallback: str = "") -> str:
        return f"(default: data.{key}{fallback}{f'; saved as data.{key}' if saved else ''})"

    p.add_argument("--text-col", help="the text column " + default("text_col", ", else 'text'"))
    p.add_argument("--label-col", help="the label column " + default("label_col", ", else 'label'"))
    p.add_argument(
        "--labels", help="comma-separated labels; each must have rows " + default("labels")
    )
    p.add_argument(
        "--on-conflict",
        choices=["error", "majority", "drop"],
        help="one text with several labels: error, keep the majority label, or drop the text "
        + default("on_conflict"),
    )


def parse_labels(text: str) -> list[str]:
    """`--labels a,b,c` as a list (blanks ignored)."""
    return [x.strip() for x in text.split(",") if x.strip()]


# How a file is read outside any project (`data validate` with no params.yaml here, `init`): the
# values of these keys in conf/data/bbc.yaml of the template every project is rendered from
# (fullcycle/template/). In a project, params.yaml's `data` section is used, whole and checked.
READ_KEYS = ("text_col", "label_col", "labels", "min_rows_per_class", "max_errors", "on_conflict")
TEMPLATE_DATA = Path(__file__).resolve().parents[1] / "template/project/conf/data/bbc.yaml"


def template_defaults() -> dict:
    """The template's `data` values of READ_KEYS (what a new project starts with)."""
    import yaml

    data = yaml.safe_load(TEMPLATE_DATA.read_text(encoding="utf-8"))
    return {key: data[key] for key in READ_KEYS}


def data_config(args: argparse.Namespace, in_project: bool = True) -> DictConfig:
    """The `data` params (params.yaml's, if one is here and `in_project`, else the template's)
    with the command-line flags on top."""
    from omegaconf import OmegaConf

    from fullcycle.core import params

    if in_project and Path(params.PARAMS_FILE).is_file():
        data = params.section(params.load(), "data")
        base = {k: v for k, v in OmegaConf.to_container(data).items() if k in READ_KEYS}
    else:
        base = template_defaults()
    for key in ("text_col", "label_col", "on_conflict"):
        if getattr(args, key, None):
            base[key] = getattr(args, key)
    if getattr(args, "labels", None):
        base["labels"] = parse_labels(args.labels)
    return OmegaConf.create(base | {"source": "file"})


def cli_data_validate(args: argparse.Namespace) -> int:
    from fullcycle.core.validate import load_and_validate

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
