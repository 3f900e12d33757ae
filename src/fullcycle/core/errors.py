"""Errors meant for people: what is wrong, where, and what to do next.

The CLI prints these without a traceback and exits non-zero; anything else is a bug.
"""

from __future__ import annotations

from dataclasses import dataclass


class FullcycleError(Exception):
    """A problem the user can fix (bad file, bad config, missing prerequisite)."""

    exit_code = 2


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located as precisely as we can."""

    source: str
    message: str
    row: int | None = None  # 1-based data record (the header is not a row)
    column: str | None = None
    # 1-based line of the file where that record starts, given when it is not simply the row + the
    # header (quoted fields spanning lines, blank lines) or when only the line is known
    line: int | None = None

    def __str__(self) -> str:
        where = self.source
        if self.row is not None:
            where += f", row {self.row}"
            if self.line is not None:
                where += f" (file line {self.line})"
        elif self.line is not None:
            where += f", file line {self.line}"
        if self.column is not None:
            where += f", column '{self.column}'"
        return f"{where}: {self.message}"


class DataError(FullcycleError):
    """An input data file failed validation; carries every problem found (up to a cap).

    Bad input is an error (exit 2) for every command that needs the data; only `data validate`,
    whose verdict was asked for, exits 1 on it."""

    def __init__(self, problems: list[Problem], total: int | None = None, hint: str = "") -> None:
        self.problems = problems
        self.total = total if total is not None else len(problems)
        lines = [f"{self.total} problem(s) found in the input data:"]
        lines += [f"  - {p}" for p in problems]
        if self.total > len(problems):
            lines.append(
                f"  ... and {self.total - len(problems)} more (raise data.max_errors to list them)"
            )
        if hint:
            lines.append(hint)
        super().__init__("\n".join(lines))
