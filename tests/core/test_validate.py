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
    # the rows are unknown until the file decodes: the lines are named as lines
    assert "latin.csv, file line 8: byte 0xE9 at position 4" in out
    assert "latin.csv, file line 10: byte 0xEF" in out and "row" not in out
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
    assert "row 9, column 'label': label 'maybe' is not one of the labels ['neg', 'pos']" in out


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
    assert "file line 2: not valid JSON" in out and "file line 3: not a JSON object" in out


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
    rows = [
        {"text": f"{r['text']}\u2028second line\u0085", "label": r["label"]} for r in good_rows()
    ]
    path.write_text("\r\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\r\n")
    code, out = validate(capsys, path)
    assert code == 0, out


def test_a_declared_label_without_rows_is_an_error(capsys, tmp_path):
    path = write_csv(tmp_path / "d.csv", good_rows())
    code, out = validate(capsys, path, "--labels", "pos,neg,sports")
    assert code == 1
    assert "1 problem(s)" in out
    assert "label 'sports' is declared (--labels / data.labels) but no valid row has it" in out
    code, out = validate(capsys, path, "--labels", "pos,neg")
    assert code == 0, out


def test_a_label_typo_on_many_rows_is_one_line_with_a_suggestion(capsys, tmp_path):
    rows = good_rows(labels=("food", "drink"))
    rows += [{"text": f"a meal, number {i}", "label": "fod"} for i in range(30)]
    path = write_csv(tmp_path / "d.csv", rows)
    code, out = validate(capsys, path, "--labels", "food,drink")
    assert code == 1
    assert "1 problem(s)" in out and out.count("'fod'") == 1
    assert "label 'fod' on 30 rows: 25, 26, 27, 28, 29, … — did you mean 'food'?" in out


def test_rows_and_file_lines_are_told_apart_when_fields_span_lines(capsys, tmp_path):
    path = tmp_path / "d.csv"
    body = ["text,label"] + [f"pos review {i},pos" for i in range(12)]
    body += ['"a review\nover\nthree lines",neg'] + [f"neg review {i},neg" for i in range(11)]
    body += ["a review without a label,"]
    path.write_text("\n".join(body) + "\n")
    code, out = validate(capsys, path)
    assert code == 1
    # record 25 starts on line 28: the quoted field above it spans three lines
    assert "d.csv, row 25 (file line 28), column 'label': label is missing" in out


def test_row_numbers_alone_when_they_match_the_lines(capsys, tmp_path):
    rows = [*good_rows(), {"text": "no label", "label": ""}]
    code, out = validate(capsys, write_csv(tmp_path / "d.csv", rows))
    assert code == 1 and "row 25, column 'label'" in out and "file line" not in out


def test_max_errors_from_params_caps_every_list(capsys, tmp_path):
    from fullcycle.core import params

    conf = Path(__file__).resolve().parents[2] / "conf"  # params.yaml is conf/ composed, whole
    params.write(tmp_path / "params.yaml", conf, ["data.max_errors=3"])
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"text,label\n" + b"caf\xe9,a\n" * 8)
    code, out = validate(capsys, latin)
    assert code == 1 and "8 problem(s)" in out and out.count("not valid UTF-8") == 3
    assert "... and 5 more" in out
    bad_jsonl = tmp_path / "bad.jsonl"
    bad_jsonl.write_text("{nope\n" * 6)
    code, out = validate(capsys, bad_jsonl)
    assert "6 problem(s)" in out and out.count("not valid JSON") == 3
    empty = write_csv(tmp_path / "d.csv", good_rows() + [{"text": "", "label": "pos"}] * 9)
    code, out = validate(capsys, empty)
    assert "9 problem(s)" in out and out.count("text is empty") == 3


def conflicted_rows() -> list[dict]:
    """24 clean rows; 'a' 2x pos + 1x neg (majority pos), 'b' 1x pos + 1x neg (a tie)."""
    return [
        *good_rows(),
        {"text": "text a", "label": "pos"},
        {"text": "text b", "label": "neg"},
        {"text": "text a", "label": "neg"},
        {"text": "text b", "label": "pos"},
        {"text": "text a", "label": "pos"},
    ]


def test_conflicting_labels_policy_error_is_the_default(capsys, tmp_path):
    code, out = validate(capsys, write_csv(tmp_path / "d.csv", conflicted_rows()))
    assert code == 1 and "2 problem(s)" in out
    assert "conflicting labels (row 25: 'pos', row 27: 'neg', row 29: 'pos')" in out
    assert "--on-conflict" in out


@pytest.mark.parametrize(
    ("policy", "kept", "said"),
    [
        ("majority", {("text a", "pos")}, "1 kept with their majority label, 1 dropped (3 rows"),
        ("drop", set(), "0 kept with their majority label, 2 dropped (5 rows"),
    ],
)
def test_conflicting_labels_resolved_whatever_the_row_order(capsys, tmp_path, policy, kept, said):
    from types import SimpleNamespace

    from fullcycle.core.validate import load_and_validate
    from fullcycle.data.commands import data_config

    rows = conflicted_rows()
    code, out = validate(capsys, write_csv(tmp_path / "d.csv", rows), "--on-conflict", policy)
    assert code == 0, out
    assert f"2 text(s) had conflicting labels, resolved by data.on_conflict={policy}: {said}" in out
    results = []
    for order in (rows, rows[::-1]):
        path = write_csv(tmp_path / "d.csv", order)
        data = data_config(SimpleNamespace(on_conflict=policy))
        result = load_and_validate(data, path=str(path))
        clean = set(map(tuple, result.clean[["text", "label"]].to_numpy()))
        results.append((clean, result.conflicts.to_dict()))
        assert {r for r in clean if r[0] in ("text a", "text b")} == kept
    assert results[0] == results[1]


def test_unknown_conflict_policy_is_named(tmp_path):
    from fullcycle.core.errors import FullcycleError
    from fullcycle.core.validate import validate as check

    table = pd.DataFrame({"text": ["a"], "label": ["x"]}, index=pd.RangeIndex(1, 2))
    with pytest.raises(FullcycleError, match="data.on_conflict = 'vote'"):
        check(table, "d.csv", on_conflict="vote")
