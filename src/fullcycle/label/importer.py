"""`fullcycle label import FILE`: labelled texts become a new version of the training data.

FILE is a Label Studio JSON export, its JSON_MIN export, or a CSV (`text,label`). It goes through
the same checks as `data validate` (cleaning, missing/empty texts, labels outside the project's
unless `--new-labels`, conflicting labels inside the file); rows whose text the data already has
with another label are conflicts, reported with both rows and not merged; rows it already has with
the same label are dropped. Rows without a label (an empty CSV cell, a Label Studio task with no
annotation) are work a labeller has not done yet: they are skipped and counted, unless
`--require-all` makes each one a problem; a file with no labelled row is an error. The new rows
are written as data/raw/labelled/<name>.csv (data.labelled_dir), tracked with `dvc add`, pushed
when a DVC remote is configured, and committed as "labels: N rows from FILE". `prepare` then adds
them without moving any earlier row between splits (see fullcycle.core.labelled). Importing the same
file again finds nothing new: exit 0, no commit.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig

from fullcycle.core import params
from fullcycle.core.clean import clean_texts
from fullcycle.core.errors import DataError, FullcycleError, Problem
from fullcycle.core.io import atomic_path
from fullcycle.core.labelled import labelled_files
from fullcycle.core.sources import read_bbc_news, read_table

# _label_str: validate's own rule for "no label" (None, NaN, blank), so both agree on it
from fullcycle.core.validate import _label_str, rows_text, validate
from fullcycle.label.studio import read_labelled
from fullcycle.lifecycle import records
from fullcycle.lifecycle.gitutil import repo_root
from fullcycle.lifecycle.versioning import version_file


def project_labels(data: DictConfig) -> list[str]:
    """The labels the project has now: data.labels if set, else what prepare last found."""
    if data.get("labels"):
        return [str(x) for x in data.labels]
    path = Path(data.processed_dir) / "labels.json"
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    return sorted(existing_rows(data)["label"].unique())


def existing_rows(data: DictConfig) -> pd.DataFrame:
    """Every labelled text the data has (base source and earlier label imports), cleaned:
    columns text, label, where ("file, row N")."""
    if data.source == "bbc":
        tables = [(read_bbc_news(), "BBC News corpus")]
    else:
        tables = [(read_table(data.path, data.text_col, data.label_col), str(data.path))]
    tables += [(read_table(p, "text", "label"), str(p)) for p in labelled_files(data)]
    frames = []
    for table, source in tables:
        frame = pd.DataFrame(
            {
                "text": clean_texts(table["text"]),
                "label": table["label"].map(lambda v: None if v is None else str(v).strip()),
                "where": [f"{source}, row {row}" for row in table.index],
            }
        )
        frames.append(frame.dropna(subset=["text", "label"]))
    return pd.concat(frames, ignore_index=True).drop_duplicates(subset="text", keep="first")


def cli_label_import(args: argparse.Namespace) -> int:
    """`fullcycle label import FILE`: check its labelled rows, refuse conflicts with the data, and
    commit the rows the data does not have yet (see the module docstring)."""
    root = repo_root()
    if root.resolve() != Path.cwd().resolve():
        raise FullcycleError(f"run `fullcycle label import` from the project root ({root}).")
    data = params.section(params.load(), "data")
    src = Path(args.path)
    table = read_labelled(src)
    skipped: list[int] = []
    if not args.require_all:
        table, skipped = _labelled_rows(table, src)
    labels = project_labels(data)
    clean = _validated(table, src, labels, args, data)
    known = _known_texts(clean, table, src, data)
    new = clean[~known].reset_index(drop=True)
    if new.empty:
        print(
            f"nothing new: all {len(clean)} labelled texts of {src} are already in the training "
            "data. Nothing was written."
        )
        if skipped:
            print(_skipped_note(skipped))
        return 0
    added = sorted(set(new["label"]) - set(labels))
    return _commit(src, new, added, data, skipped)


def _validated(
    table: pd.DataFrame, src: Path, labels: list[str], args: argparse.Namespace, data: DictConfig
) -> pd.DataFrame:
    """The file's clean rows, after the checks of `data validate` (as a slice: it need not hold
    every project label); raises with every problem, and a hint for what to do about them."""
    result = validate(
        table,
        str(src),
        labels=None if args.new_labels else labels,
        min_rows_per_class=1,
        require_every_label=False,
    )
    if (
        not result.ok
        and not args.new_labels
        and any("not one of" in p.message for p in result.problems)
    ):
        hint = (
            "Use --new-labels to add labels the project does not have (the next release is major)."
        )
    else:
        hint = f"{src} was not imported: fix the rows above and import it again."
        if any(p.message == "label is missing" for p in result.problems):
            hint += " Without --require-all, rows without a label are skipped instead."
    clean = result.raise_if_invalid(int(data.get("max_errors", 20)), hint=hint)
    if data.get("labels") and not set(clean["label"]) <= set(map(str, data.labels)):
        raise FullcycleError(
            f"data.labels is set in conf/data/ and lacks {sorted(set(clean['label']) - set(data.labels))}: "
            "add them there (then `fullcycle params`) before importing."
        )
    return clean


def _known_texts(
    clean: pd.DataFrame, table: pd.DataFrame, src: Path, data: DictConfig
) -> pd.Series:
    """Which clean rows the data already has (with the same label); a text it has with another
    label is a conflict: raises with each one, naming both rows, and imports nothing."""
    existing = existing_rows(data).set_index("text")
    known = clean["text"].isin(existing.index)
    before = existing.reindex(clean["text"])
    clash = known.to_numpy() & (before["label"].to_numpy() != clean["label"].to_numpy())
    if clash.any():
        rows = table.index[: len(table)]  # record numbers of the file, for the message
        problems = [
            Problem(
                str(src),
                f"'{text[:60]}' is labelled '{label}' here but '{before.loc[text, 'label']}' in "
                f"{before.loc[text, 'where']}: keep one label per text",
                _record_of(table, text, rows),
                "label",
            )
            for text, label in zip(clean["text"][clash], clean["label"][clash], strict=True)
        ]
        raise DataError(
            problems[: int(data.get("max_errors", 20))],
            total=len(problems),
            hint="Nothing was imported. Fix the label in the file (or in the data), then import again.",
        )
    return known


def _labelled_rows(table: pd.DataFrame, src: Path) -> tuple[pd.DataFrame, list[int]]:
    """The rows that have a label, and the record numbers of those without one. The index (the
    file's record number) is kept, so a problem in a labelled row still names its row."""
    has_label = table["label"].map(_label_str).notna()
    if not has_label.any():
        raise FullcycleError(
            f"{src}: none of its {len(table)} row(s) has a label, so there is nothing to import. "
            "Label some rows (a value in the CSV's `label` column, a choice in Label Studio), "
            "export again and import that file."
        )
    return table[has_label], [int(row) for row in table.index[~has_label]]


def _skipped_note(skipped: list[int]) -> str:
    return (
        f"skipped {len(skipped)} without a label "
        f"(rows {rows_text(skipped, {})}; use --require-all to refuse them)"
    )


def _record_of(table: pd.DataFrame, text: str, rows) -> int | None:
    cleaned = clean_texts(table["text"])
    match = cleaned.index[cleaned == text]
    return int(match[0]) if len(match) else None


def _commit(
    src: Path, new: pd.DataFrame, added: list[str], data: DictConfig, skipped: list[int]
) -> int:
    folder = Path(data.labelled_dir)
    body = new.to_csv(index=False)
    digest = hashlib.md5(body.encode()).hexdigest()
    dest = folder / f"{src.stem}-{digest[:8]}.csv"
    classes = new["label"].value_counts().sort_index()
    notes = (
        "classes: "
        + ", ".join(f"{k} {v}" for k, v in classes.items())
        + (
            f"\nnew labels: {', '.join(added)} (the next release is a major version)"
            if added
            else ""
        )
        + (f"\n{len(skipped)} rows without a label were skipped" if skipped else "")
    )

    def write() -> None:
        with atomic_path(dest) as tmp:
            tmp.write_text(body, encoding="utf-8")

    def record_of(md5: str) -> records.LabelImport:
        return records.LabelImport(
            str(src), str(dest), len(new), md5, ",".join(added) if added else "none"
        )

    done = version_file(
        dest, write, lambda md5: record_of(md5).message(notes), what="import labels"
    )
    if done.sha is None:
        print(f"{dest} (md5 {done.md5[:8]}) is already imported: nothing to commit.")
        return 0
    print(
        f"{record_of(done.md5).summary()} -> {dest}\ncommitted {done.sha}; {done.pushed}. "
        "Run `dvc repro` to train on it (held-out rows of earlier data stay held out)."
    )
    if skipped:
        print(f"imported {len(new)} labelled rows; {_skipped_note(skipped)}")
    return 0
