"""Every kind of bad input file, through `fullcycle data validate` (the same checks as prepare)."""

import json
from pathlib import Path

import pandas as pd
import pytest

from fullcycle.cli import main


def good_rows(n_per_class: int = 12, labels=("pos", "neg")) -> list[dict]:
    return [
        {"text": f"{lab} review number {i}", "label": lab}
        for lab in labels
        for i in range(n_per_class)
    ]


def write_csv(path: Path, rows: list[dict]) -> Path:
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def validate(capsys, *args: str) -> tuple[int, str]:
    code = main(["data", "validate", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no params.yaml here: defaults apply


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
def test_valid_file_in_each_format(tmp_path, capsys, suffix):
    df = pd.DataFrame(good_rows())
    path = tmp_path / f"data{suffix}"
    if suffix == ".csv":
        df.to_csv(path, index=False)
    elif suffix == ".tsv":
        df.to_csv(path, sep="\t", index=False)
    elif suffix == ".jsonl":
        df.to_json(path, orient="records", lines=True)
    else:
        df.to_parquet(path)
    code, out = validate(capsys, path)
    assert code == 0, out
    assert "valid. 24 rows" in out and "2 classes" in out


def test_missing_file(capsys, tmp_path):
    code, out = validate(capsys, tmp_path / "nope.csv")
    assert code != 0
    assert "data file not found" in out and "nope.csv" in out
    assert "Traceback" not in out


def test_missing_file_tracked_by_dvc_suggests_pull(capsys, tmp_path):
    (tmp_path / "big.csv.dvc").write_text("outs: []\n")
    code, out = validate(capsys, tmp_path / "big.csv")
    assert code != 0 and "dvc pull" in out


def test_unsupported_extension(capsys, tmp_path):
    (tmp_path / "data.xlsx").write_text("x")
    code, out = validate(capsys, tmp_path / "data.xlsx")
    assert code != 0 and "unsupported file type '.xlsx'" in out


def test_undecodable_bytes_name_every_line(capsys, tmp_path):
    path = tmp_path / "latin.csv"
    lines = ["text,label"] + [f"row {i},a" for i in range(6)]
    raw = "\n".join(lines).encode() + b"\ncaf\xe9 au lait,b\nfine,b\nna\xefve,b\n"
    path.write_bytes(raw)
    code, out = validate(capsys, path)
    assert code == 1
    assert "2 problem(s)" in out
    assert "row 7" in out and "line 8: byte 0xE9" in out
    assert "row 9" in out and "line 10: byte 0xEF" in out
    assert "iconv" in out  # says what to do


def test_missing_columns_name_the_columns_found(capsys, tmp_path):
    path = write_csv(tmp_path / "d.csv", [{"body": "x", "topic": "a"}])
    code, out = validate(capsys, path)
    assert code == 1
    assert "column 'text': column not found (the file has: body, topic)" in out
    assert "column 'label'" in out and "--text-col" in out
    code, out = validate(capsys, path, "--text-col", "body", "--label-col", "topic")
    assert "column not found" not in out


def test_every_row_problem_is_listed_with_row_and_column(capsys, tmp_path):
    rows = good_rows()
    rows[2]["text"] = "   "  # row 3: whitespace only
    rows[4]["text"] = ""  # row 5: empty
    rows[6]["label"] = ""  # row 7: missing label
    rows[8]["label"] = "maybe"  # row 9: outside the label set
    path = write_csv(tmp_path / "d.csv", rows)
    code, out = validate(capsys, path, "--labels", "pos,neg")
    assert code == 1
    assert "4 problem(s)" in out
    assert "row 3, column 'text': text is empty or whitespace only" in out
    assert "row 5, column 'text': text is empty or whitespace only" in out
    assert "row 7, column 'label': label is missing" in out
    assert "row 9, column 'label': label 'maybe' is not one of the configured labels" in out


def test_conflicting_labels_for_the_same_text(capsys, tmp_path):
    rows = good_rows()
    rows.append({"text": "pos review number 3", "label": "neg"})  # same text as row 4, other label
    path = write_csv(tmp_path / "d.csv", rows)
    code, out = validate(capsys, path)
    assert code == 1
    assert "conflicting labels (row 4: 'pos', row 25: 'neg')" in out


def test_class_with_too_few_rows(capsys, tmp_path):
    rows = good_rows() + [{"text": f"rare {i}", "label": "rare"} for i in range(3)]
    path = write_csv(tmp_path / "d.csv", rows)
    code, out = validate(capsys, path)
    assert code == 1
    assert "class 'rare' has 3 distinct row(s)" in out and "at least 10" in out


def test_exact_duplicates_are_counted_not_errors(capsys, tmp_path):
    rows = good_rows() + good_rows()[:5] + [{"text": "  pos   review number 0 ", "label": "pos"}]
    path = write_csv(tmp_path / "d.csv", rows)
    code, out = validate(capsys, path)
    assert code == 0, out
    assert "6 exact duplicates" in out and "24 distinct rows" in out


def test_problem_list_is_capped_but_counted(capsys, tmp_path):
    rows = good_rows() + [{"text": "", "label": "pos"} for _ in range(30)]
    path = write_csv(tmp_path / "d.csv", rows)
    code, out = validate(capsys, path)
    assert code == 1
    assert "30 problem(s)" in out and "... and 10 more" in out
    assert out.count("text is empty") == 20


def test_malformed_csv_and_jsonl(capsys, tmp_path):
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text('text,label\n"unterminated,a\nok,b\n')
    code, out = validate(capsys, bad_csv)
    assert code != 0 and "malformed CSV" in out and "Traceback" not in out

    bad_jsonl = tmp_path / "bad.jsonl"
    bad_jsonl.write_text(json.dumps({"text": "a", "label": "x"}) + "\n{not json\n[1, 2]\n")
    code, out = validate(capsys, bad_jsonl)
    assert code == 1
    assert "line 2 is not valid JSON" in out and "line 3 is not a JSON object" in out


def test_non_string_text_in_jsonl(capsys, tmp_path):
    path = tmp_path / "d.jsonl"
    rows = [*good_rows(), {"text": 42, "label": "pos"}, {"label": "neg"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    code, out = validate(capsys, path)
    assert code == 1
    assert "row 25, column 'text': text must be a string, got int" in out
    assert "row 26, column 'text': text is missing" in out


def test_empty_file(capsys, tmp_path):
    (tmp_path / "empty.csv").write_text("")
    code, out = validate(capsys, tmp_path / "empty.csv")
    assert code != 0 and "empty" in out
    (tmp_path / "header.csv").write_text("text,label\n")
    code, out = validate(capsys, tmp_path / "header.csv")
    assert code != 0 and "no data rows" in out


def test_unlabelled_traffic_is_valid_with_no_labels(capsys, tmp_path):
    path = tmp_path / "traffic.jsonl"
    path.write_text("\n".join(json.dumps({"text": f"message {i}"}) for i in range(5)) + "\n")
    code, out = validate(capsys, path, "--no-labels")
    assert code == 0, out
    code, out = validate(capsys, path)
    assert code == 1 and "column 'label': column not found" in out


def test_jsonl_texts_may_hold_unicode_line_separators(capsys, tmp_path):
    path = tmp_path / "d.jsonl"
    rows = [{"text": f"{r['text']}\u2028second line\u0085", "label": r["label"]} for r in good_rows()]
    path.write_text("\r\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\r\n")
    code, out = validate(capsys, path)
    assert code == 0, out
