"""`fullcycle data add PATH`: a new data version is one git commit.

The file is checked with the same rules as `prepare` (nothing is added when a row is bad), copied to
data/raw/, tracked with `dvc add`, pushed to the DVC remote when there is one, and the params are
switched to it by editing conf/ (so `fullcycle params` and `dvc exp run` compose the same thing). The
commit message states rows, classes and hash, and carries a `Fullcycle-Data:` trailer that
`fullcycle history` reads. Any failure before the commit restores every file it touched.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from fullcycle.core import params, paths
from fullcycle.core.errors import FullcycleError
from fullcycle.core.validate import load_and_validate
from fullcycle.data.commands import data_config, parse_labels
from fullcycle.lifecycle import conf, records
from fullcycle.lifecycle.gitutil import (
    repo_root,
)
from fullcycle.lifecycle.versioning import version_file

RAW_DIR = paths.RAW_DIR
CONFIG = Path("conf/config.yaml")
FILE_OPTION = Path("conf/data/file.yaml")
# The README's "lifecycle in git" shows this same line: results (dvc.lock, metrics, card) live in git.
TRAIN_AND_COMMIT = 'dvc repro && git add dvc.lock reports && git commit -m "Train on {name}"'


def cli_data_add(args: argparse.Namespace) -> int:
    root = repo_root()
    if root.resolve() != Path.cwd().resolve() or not CONFIG.is_file():
        raise FullcycleError(
            f"run `fullcycle data add` from the project root ({root}), where conf/ and dvc.yaml are."
        )
    src = Path(args.path)
    data = data_config(args)
    validation = load_and_validate(data, path=str(src))
    clean = validation.raise_if_invalid(
        int(data.max_errors), hint=f"{src} was not added: fix the rows above and add it again."
    )
    dest = destination(src, args.name)
    classes = clean["label"].value_counts().sort_index()
    body = (
        "classes: "
        + ", ".join(f"{k} {v}" for k, v in classes.items())
        + f"\nrows read: {validation.rows}, exact duplicates dropped: {validation.duplicates}"
        + f"\nadded from: {src}"
    )

    def write() -> None:
        if src.resolve() != dest.resolve():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
        switch_params(dest, args)

    def record_of(md5: str) -> records.DataVersion:
        return records.DataVersion(str(dest), len(clean), len(classes), md5)

    done = version_file(
        dest,
        write,
        lambda md5: record_of(md5).message(body),
        what="add data",
        also=[CONFIG, FILE_OPTION, Path(params.PARAMS_FILE)],
    )
    if done.sha is None:
        print(
            f"{dest} (md5 {done.md5[:8]}) is already the current data version: nothing to commit."
        )
        return 0
    record, sha, pushed = record_of(done.md5), done.sha, done.pushed
    print(
        f"{record.summary()}\ncommitted {sha}; {pushed}.\n"
        f"Train on it and commit the results (as the README shows):\n  "
        + TRAIN_AND_COMMIT.format(name=dest.name)
    )
    return 0


def destination(src: Path, name: str | None) -> Path:
    """data/raw/<name>, keeping the source's extension (the reader picks the format from it)."""
    name = name or src.name
    if "/" in name or "\\" in name or name.startswith("."):
        raise FullcycleError(f"--name '{name}' must be a plain file name, e.g. reviews.csv.")
    if not Path(name).suffix:
        name += src.suffix
    if Path(name).suffix.lower() != src.suffix.lower():
        raise FullcycleError(
            f"--name '{name}' changes the file type of {src} ({src.suffix}): keep the extension."
        )
    return RAW_DIR / name


def switch_params(dest: Path, args: argparse.Namespace) -> None:
    """`data add`'s flags as conf/ settings (point_conf_at)."""
    labels = parse_labels(args.labels) if getattr(args, "labels", None) else None
    settings = {k: getattr(args, k, None) for k in ("text_col", "label_col", "on_conflict")}
    point_conf_at(dest, labels=labels, **settings)


def point_conf_at(dest: Path, labels: list[str] | None = None, **settings: str | None) -> None:
    """Point conf/ at the new file (data group option `file`) with the `settings` given (text_col,
    label_col, on_conflict) and `labels`, then regenerate params.yaml. A YAML round-trip
    (conf.set_value), so any column name or path is written as YAML. `fullcycle init` uses it too."""
    if not FILE_OPTION.is_file():
        FILE_OPTION.write_text("defaults:\n  - bbc\n  - _self_\nsource: file\n", encoding="utf-8")
    conf.set_default(CONFIG.parent, "data", "file")
    conf.set_value(FILE_OPTION, "path", str(dest))
    for key, value in settings.items():
        if value:
            conf.set_value(FILE_OPTION, key, value)
    if labels:
        conf.set_value(FILE_OPTION, "labels", labels)
    params.write()
