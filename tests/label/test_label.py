"""`fullcycle label export` / `label import`: Label Studio files out, labelled rows in as data."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from fullcycle.cli import main
from fullcycle.core import params
from fullcycle.core.sources import read_bbc_news
from fullcycle.data import prepare
from fullcycle.label.studio import read_labelled
from fullcycle.lifecycle import records
from tests.monitor.conftest import write_batch

LABELS = ["business", "entertainment", "politics", "sports", "tech"]


def head(box) -> str:
    return box.git("rev-parse", "HEAD")


def write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(path, index=False)
    return path


def test_read_label_studio_json_export_json_min_and_csv(tmp_path):
    export = [
        {
            "data": {"text": "Shares fell."},
            "annotations": [
                {"result": [{"from_name": "label", "value": {"choices": ["tech"]}}]},
                {"result": [{"from_name": "label", "value": {"choices": ["business"]}}]},
            ],
        },
        {
            "data": {"text": "A goal."},
            "annotations": [
                {"result": [{"from_name": "label", "value": {"choices": ["sports"]}}]},
                {"was_cancelled": True, "result": [{"value": {"choices": ["tech"]}}]},
            ],
        },
    ]
    (tmp_path / "full.json").write_text(json.dumps(export))
    table = read_labelled(tmp_path / "full.json")
    assert list(table["label"]) == ["business", "sports"] and list(table.index) == [1, 2]
    (tmp_path / "min.json").write_text(
        json.dumps([{"text": "A goal.", "label": "sports", "id": 3}])
    )
    assert read_labelled(tmp_path / "min.json").iloc[0].to_dict() == {
        "text": "A goal.",
        "label": "sports",
    }
    write_csv(tmp_path / "l.csv", [("A goal.", "sports")])
    assert read_labelled(tmp_path / "l.csv")["label"].tolist() == ["sports"]


def test_import_commits_once_and_the_second_import_is_a_no_op(bare, tmp_path, capsys):
    rows = [(f"A brand new story number {i} about the markets.", "business") for i in range(6)]
    rows += [(f"A brand new match report {i}.", "sports") for i in range(4)]
    src = write_csv(tmp_path / "reviewed.csv", rows)
    assert main(["label", "import", str(src)]) == 0
    out = capsys.readouterr().out
    assert "labels: 10 rows from reviewed.csv" in out and "pushed to DVC remote 'store'" in out
    assert bare.git("log", "-1", "--format=%s") == "labels: 10 rows from reviewed.csv"
    fields = records.trailer(records.LABELS, bare.git("log", "-1", "--format=%B"))
    assert fields["rows"] == "10" and fields["new_labels"] == "none"
    [written] = (bare.root / "data/raw/labelled").glob("*.csv")
    assert (bare.root / f"data/raw/labelled/{written.name}.dvc").is_file()
    assert bare.git("status", "--porcelain", "--untracked-files=no") == ""

    before = head(bare)
    assert main(["label", "import", str(src)]) == 0
    assert "nothing new: all 10 labelled texts" in capsys.readouterr().out
    assert head(bare) == before
    assert main(["history"]) == 0
    table = capsys.readouterr().out
    assert "labels" in table and "10 rows from reviewed.csv -> data/raw/labelled/" in table


def test_bad_imports_change_nothing(bare, tmp_path, capsys):
    before = head(bare)
    outside = write_csv(tmp_path / "outside.csv", [("A story.", "weather")])
    assert main(["label", "import", str(outside)]) != 0
    err = capsys.readouterr().err
    assert "row 1, column 'label': label 'weather'" in err and "--new-labels" in err

    no_text = tmp_path / "no_text.json"
    no_text.write_text(json.dumps([{"data": {"body": "A story."}, "annotations": []}]))
    assert main(["label", "import", str(no_text)]) != 0
    assert "row 1, column 'text': no text field (keys: body)" in capsys.readouterr().err
    no_col = tmp_path / "no_col.csv"
    no_col.write_text("body,label\nA story.,tech\n")
    assert main(["label", "import", str(no_col)]) != 0
    assert "column 'text': column not found" in capsys.readouterr().err

    bbc = read_bbc_news().iloc[0]
    wrong = next(x for x in LABELS if x != bbc["label"])
    conflict = write_csv(tmp_path / "conflict.csv", [(bbc["text"], wrong), ("Fresh text.", "tech")])
    assert main(["label", "import", str(conflict)]) != 0
    err = capsys.readouterr().err
    assert f"labelled '{wrong}' here but '{bbc['label']}' in BBC News corpus, row 1" in err
    assert "conflict.csv, row 1" in err and "Nothing was imported" in err

    assert head(bare) == before and not (bare.root / "data/raw/labelled").exists()
    assert bare.git("status", "--porcelain") == ""

    # --new-labels: accepted, and the commit says the next release is a major version
    assert main(["label", "import", str(outside), "--new-labels"]) == 0
    message = bare.git("log", "-1", "--format=%B")
    assert "new labels: weather" in message
    assert records.trailer(records.LABELS, message)["new_labels"] == "weather"


def partly_labelled(path: Path, wrong: str | None = None) -> Path:
    """A labeller's CSV export: 52 rows, rows 3, 8, 13, ... (10 of them) labelled, the rest blank.
    `wrong` replaces the label of row 8."""
    rows = [
        (f"Partly labelled export, story {i}: the central bank and the markets.", None)
        for i in range(52)
    ]
    for i in range(2, 52, 5):
        rows[i] = (rows[i][0], "business")
    if wrong:
        rows[7] = (rows[7][0], wrong)
    return write_csv(path, rows)


def test_a_partly_labelled_file_imports_its_labelled_rows_and_counts_the_rest(
    bare, tmp_path, capsys
):
    src = partly_labelled(tmp_path / "partial.csv")
    before = head(bare)
    assert main(["label", "import", str(src), "--require-all"]) == 2  # today's refusal stands
    err = capsys.readouterr().err
    assert "42 problem(s)" in err and "partial.csv, row 1, column 'label': label is missing" in err
    assert "Without --require-all" in err
    assert head(bare) == before and not (bare.root / "data/raw/labelled").exists()

    assert main(["label", "import", str(src)]) == 0
    out = capsys.readouterr().out
    assert "imported 10 labelled rows; skipped 42 without a label (rows 1, 2, 4, 5, 6, …; " in out
    assert "use --require-all to refuse them)" in out
    assert bare.git("log", "-1", "--format=%s") == "labels: 10 rows from partial.csv"
    assert "42 rows without a label were skipped" in bare.git("log", "-1", "--format=%B")
    [written] = (bare.root / "data/raw/labelled").glob("*.csv")
    imported = pd.read_csv(written)
    assert len(imported) == 10 and set(imported["label"]) == {"business"}


def test_labels_that_are_present_are_still_checked_and_a_blank_file_is_an_error(
    bare, tmp_path, capsys
):
    before = head(bare)
    src = partly_labelled(tmp_path / "typo.csv", wrong="busines")
    assert main(["label", "import", str(src)]) == 2
    err = capsys.readouterr().err
    assert "typo.csv, row 8, column 'label': label 'busines' is not one of" in err
    assert "did you mean 'business'?" in err and "label is missing" not in err

    blank = write_csv(tmp_path / "blank.csv", [(f"Unlabelled text {i}.", None) for i in range(5)])
    assert main(["label", "import", str(blank)]) == 2
    err = capsys.readouterr().err
    assert "blank.csv: none of its 5 row(s) has a label, so there is nothing to import" in err
    assert len(err.strip().splitlines()) == 1  # one line, no traceback
    # a Label Studio JSON export whose tasks have no (or only cancelled) annotations: the same
    tasks = tmp_path / "tasks.json"
    tasks.write_text(
        json.dumps(
            [
                {"data": {"text": "Not looked at yet."}, "annotations": []},
                {
                    "data": {"text": "Skipped by the labeller."},
                    "annotations": [
                        {"was_cancelled": True, "result": [{"value": {"choices": ["tech"]}}]}
                    ],
                },
            ]
        )
    )
    assert main(["label", "import", str(tasks)]) == 2
    assert "none of its 2 row(s) has a label" in capsys.readouterr().err
    assert head(bare) == before and not (bare.root / "data/raw/labelled").exists()
    assert bare.git("status", "--porcelain") == ""


def test_a_label_studio_export_skips_tasks_nobody_annotated(bare, tmp_path, capsys):
    def annotated(text: str, label: str) -> dict:
        return {
            "data": {"text": text},
            "annotations": [{"result": [{"from_name": "label", "value": {"choices": [label]}}]}],
        }

    export = [
        annotated("A fresh story about a league final.", "sports"),
        {"data": {"text": "Nobody has looked at this one."}, "annotations": []},
        annotated("A fresh story about a new phone.", "tech"),
        {"data": {"text": "Nor this one."}},
    ]
    src = tmp_path / "export.json"
    src.write_text(json.dumps(export))
    assert main(["label", "import", str(src)]) == 0
    out = capsys.readouterr().out
    assert "imported 2 labelled rows; skipped 2 without a label (rows 2, 4; " in out
    assert bare.git("log", "-1", "--format=%s") == "labels: 2 rows from export.json"


def test_prepare_keeps_the_old_split_and_holds_labelled_test_rows_apart(project):
    cfg = params.load()
    prepare.run(cfg)
    processed = project / "data/processed"
    old = {n: pd.read_parquet(processed / f"{n}.parquet") for n in ("train", "val", "test")}
    labelled = project / "data/raw/labelled"
    labelled.mkdir(parents=True)
    rows = [(f"Labelled story {i}: the league cup final.", "sports") for i in range(40)]
    write_csv(labelled / "a.csv", rows)
    prepare.run(cfg)
    new = {n: pd.read_parquet(processed / f"{n}.parquet") for n in ("train", "val", "test")}
    held = pd.read_parquet(processed / "test_labelled.parquet")
    assert new["test"].equals(old["test"])  # the old test split is exactly the same
    assert set(old["train"]["text"]) <= set(new["train"]["text"])
    added = set(new["train"]["text"]) - set(old["train"]["text"])
    assert added and added | set(held["text"]) | (
        set(new["val"]["text"]) - set(old["val"]["text"])
    ) == {r[0] for r in rows}
    assert 0 < len(held) < 40

    # more labels later: every earlier labelled test row stays held out
    write_csv(
        labelled / "b.csv",
        [(f"Second batch text {i} on elections.", "politics") for i in range(40)],
    )
    prepare.run(cfg)
    again = pd.read_parquet(processed / "test_labelled.parquet")
    assert set(held["text"]) <= set(again["text"])
    assert not set(held["text"]) & set(pd.read_parquet(processed / "train.parquet")["text"])
    assert pd.read_parquet(processed / "test.parquet").equals(old["test"])


def test_export_writes_label_studio_tasks_config_and_csv(bare, tmp_path, capsys):
    bbc = read_bbc_news()
    known = bbc.iloc[0]["text"]
    news = [t.split("\n")[0] for t in bbc["text"].iloc[100:130]]  # headlines: look like training
    recipes = [f"Unrelated recipe {i}: whisk the eggs, add flour and bake." for i in range(30)]
    scores = [0.9] + [0.99] * 30 + [0.2 + i / 100 for i in range(30)]
    write_batch(
        bare.root / "data/production/2026-01-01_0000.parquet", [known, *recipes, *news], scores
    )
    out = tmp_path / "export" / "tasks.json"
    assert main(["label", "export", "--n", "20", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "20 texts from 61 distinct traffic texts (1 already in the training data)" in printed
    tasks = json.loads(out.read_text())
    assert len(tasks) == 20 and known not in {t["data"]["text"] for t in tasks}
    prediction = tasks[0]["predictions"][0]
    assert prediction["result"][0]["value"]["choices"] == ["tech"]
    assert prediction["result"][0]["from_name"] == "label" and prediction["model_version"] == "x"
    by_reason = {
        r: [t["data"]["text"] for t in tasks if t["data"]["reason"] == r]
        for r in ("uncertain", "drift", "random")
    }
    assert [len(v) for v in by_reason.values()] == [8, 8, 4]
    assert by_reason["uncertain"] == news[:8]  # the least confident predictions first
    assert all("recipe" in t for t in by_reason["drift"])  # the texts least like the training texts
    xml = out.with_suffix(".xml").read_text()
    assert '<Choices name="label" toName="text"' in xml and '<Choice value="tech"/>' in xml
    csv = pd.read_csv(out.with_suffix(".csv"), keep_default_na=False)
    assert list(csv.columns[:2]) == ["text", "label"] and len(csv) == 20
