"""Validation: every problem in a data table, located by row and column, in one pass.

The same checks run inside `prepare` (which refuses to write anything when one fails) and
standalone as `fullcycle data validate PATH`. Exact duplicates are not problems: they are dropped
and counted, because a duplicated row would otherwise land in two splits and leak test rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from fullcycle.data.clean import clean_texts
from fullcycle.data.split import MIN_ROWS_PER_CLASS
from fullcycle.errors import DataError, Problem


@dataclass
class Validation:
    """The outcome of checking a table: its problems, and the clean deduplicated rows."""

    source: str
    rows: int
    problems: list[Problem] = field(default_factory=list)
    duplicates: int = 0
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
) -> Validation:
    """Clean `table` (columns text, label; index = 1-based row) and check it.

    With `require_labels=False` (unlabelled traffic), missing labels are allowed and no class checks run.
    """
    result = Validation(source=source, rows=len(table))
    problems = result.problems
    if table.empty:
        problems.append(Problem(source, "the file has no data rows"))
        return result

    raw_text = table["text"]
    is_str = raw_text.map(lambda t: isinstance(t, str))
    for row in raw_text.index[raw_text.isna()]:
        problems.append(Problem(source, "text is missing", row, text_col))
    for row in raw_text.index[~is_str & raw_text.notna()]:
        kind = type(raw_text[row]).__name__
        problems.append(Problem(source, f"text must be a string, got {kind}", row, text_col))
    text = clean_texts(raw_text.where(is_str, None))
    for row in text.index[is_str & (text == "")]:
        problems.append(Problem(source, "text is empty or whitespace only", row, text_col))

    label = table["label"].map(_label_str)
    if require_labels:
        for row in label.index[label.isna()]:
            problems.append(Problem(source, "label is missing", row, label_col))
    if labels is not None:
        allowed = {str(x) for x in labels}
        outside = label.notna() & ~label.isin(allowed)
        for row in label.index[outside]:
            problems.append(
                Problem(
                    source,
                    f"label '{label[row]}' is not one of the configured labels "
                    f"{sorted(allowed)} (data.labels)",
                    row,
                    label_col,
                )
            )

    good = is_str & (text != "") & (label.notna() | (not require_labels))
    frame = pd.DataFrame({"text": text[good], "label": label[good]})
    if require_labels:
        problems += _conflicts(frame, source, label_col)
    deduped = frame.drop_duplicates(subset=["text", "label"], keep="first")
    result.duplicates = len(frame) - len(deduped)

    if require_labels and not problems:
        for name, count in deduped["label"].value_counts().sort_index().items():
            if count < min_rows_per_class:
                problems.append(
                    Problem(
                        source,
                        f"class '{name}' has {count} distinct row(s): a stratified split needs at "
                        f"least {min_rows_per_class} (data.min_rows_per_class). Add rows or drop "
                        "the class.",
                        column=label_col,
                    )
                )
    problems.sort(key=lambda p: (p.row is None, p.row or 0))
    if not problems:
        result.clean = deduped.reset_index(drop=True)
    return result


def _label_str(value: object) -> str | None:
    """Labels are compared as strings: 1, "1" and " 1 " are the same class; "" is missing."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value).strip()
    return text or None


def _conflicts(frame: pd.DataFrame, source: str, label_col: str) -> list[Problem]:
    """Rows whose (cleaned) text also appears with a different label."""
    distinct = frame.groupby("text", sort=False)["label"].nunique()
    clashing = set(distinct.index[distinct > 1])
    if not clashing:
        return []
    problems = []
    for _text_value, group in frame[frame["text"].isin(clashing)].groupby("text", sort=False):
        rows = list(group.index)
        found = ", ".join(f"row {r}: '{lab}'" for r, lab in zip(rows, group["label"], strict=True))
        problems.append(
            Problem(
                source,
                f"the same text has conflicting labels ({found}); keep one label per text",
                rows[0],
                label_col,
            )
        )
    return problems
