"""The prepare stage end to end: outputs, summary, user files, and failing without side effects."""

import json
from pathlib import Path

import pandas as pd
import pytest
from omegaconf import OmegaConf

from fullcycle.core import params
from fullcycle.cli import main
from fullcycle.data import prepare
from fullcycle.core.errors import DataError, FullcycleError


def config(tmp_path: Path, **data) -> OmegaConf:
    cfg = OmegaConf.create(params.compose(Path(__file__).parents[2] / "conf"))
    for key, value in data.items():
        OmegaConf.update(cfg, f"data.{key}", value)
    return cfg


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def test_bbc_news_default(tmp_path):
    summary = prepare.run(config(tmp_path))
    assert summary["rows_read"] == 2225
    # 98 exact duplicates in the corpus, 2 more once whitespace is normalised
    assert summary["duplicates_dropped"] == 100
    rows = summary["rows"]
    assert (
        rows["total"] == 2125
        and rows["train"] + rows["val"] + rows["test"] + rows["production"] == 2125
    )
    assert set(summary["classes"]["test"]) == {
        "business",
        "entertainment",
        "politics",
        "sports",
        "tech",
    }
    assert summary["text_words"]["median"] > 100
    processed = tmp_path / "data" / "processed"
    assert json.loads((processed / "labels.json").read_text())[0] == "business"
    splits = {n: pd.read_parquet(processed / f"{n}.parquet") for n in prepare.SPLITS}
    assert list(splits["train"].columns) == ["text", "label"]
    texts = pd.concat(splits.values())["text"]
    assert not texts.duplicated().any(), "a text in two splits would leak test rows into training"
    assert json.loads((tmp_path / "reports/data/summary.json").read_text()) == summary


def test_user_csv_with_own_columns_and_max_per_class(tmp_path):
    rows = [
        {"body": f"{lab} message {i}", "topic": lab} for lab in ("x", "y", "z") for i in range(30)
    ]
    pd.DataFrame(rows).to_csv(tmp_path / "mine.csv", index=False)
    cfg = config(
        tmp_path,
        source="file",
        path="mine.csv",
        text_col="body",
        label_col="topic",
        max_per_class=20,
    )
    summary = prepare.run(cfg)
    assert summary["rows"]["total"] == 60
    assert summary["source"] == "mine.csv"


def test_failed_run_leaves_previous_outputs_untouched(tmp_path):
    good = [{"text": f"{lab} text {i}", "label": lab} for lab in ("a", "b") for i in range(20)]
    pd.DataFrame(good).to_csv(tmp_path / "d.csv", index=False)
    cfg = config(tmp_path, source="file", path="d.csv")
    prepare.run(cfg)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and p.name != "d.csv"}

    pd.DataFrame([*good, {"text": "", "label": "a"}]).to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(DataError, match="row 41, column 'label'|row 41, column 'text'"):
        prepare.run(cfg)
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and p.name != "d.csv"}
    assert after == before, "a failed prepare must not touch (or add to) the previous outputs"


def test_file_source_without_path_is_a_config_error(tmp_path):
    with pytest.raises(FullcycleError, match="data.path is empty"):
        prepare.run(config(tmp_path, source="file", path=None))


def test_cli_prepare_without_params_says_where_to_run(tmp_path, capsys):
    assert main(["prepare"]) == 2
    err = capsys.readouterr().err
    assert "params.yaml not found" in err and "project root" in err


def test_declared_label_without_rows_stops_prepare(tmp_path):
    good = [{"text": f"{lab} text {i}", "label": lab} for lab in ("a", "b") for i in range(20)]
    pd.DataFrame(good).to_csv(tmp_path / "d.csv", index=False)
    cfg = config(tmp_path, source="file", path="d.csv", labels=["a", "b", "c"])
    with pytest.raises(DataError, match="label 'c' is declared"):
        prepare.run(cfg)
    assert not (tmp_path / "data" / "processed").exists()


def test_conflicts_resolved_by_majority_are_counted_in_the_summary(tmp_path):
    rows = [{"text": f"{lab} text {i}", "label": lab} for lab in ("a", "b") for i in range(20)]
    rows += [{"text": "a text 1", "label": "b"}, {"text": "b text 2", "label": "a"}]
    rows += [{"text": "b text 3", "label": "a"}, {"text": "b text 3", "label": "a"}]
    pd.DataFrame(rows).to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(DataError, match="conflicting labels"):
        prepare.run(config(tmp_path, source="file", path="d.csv"))
    summary = prepare.run(config(tmp_path, source="file", path="d.csv", on_conflict="majority"))
    # 'a text 1' a/b and 'b text 2' b/a are ties (dropped); 'b text 3' is 2x a against 1x b
    assert summary["conflicts"] == {
        "policy": "majority",
        "texts": 3,
        "kept_majority": 1,
        "dropped_texts": 2,
        "dropped_rows": 5,
    }
    assert summary["rows"]["total"] == 38  # 40 texts less the two ties
    processed = pd.concat(
        pd.read_parquet(tmp_path / f"data/processed/{n}.parquet") for n in prepare.SPLITS
    )
    assert processed.set_index("text").loc["b text 3", "label"] == "a"
    saved = json.loads((tmp_path / "reports/data/summary.json").read_text())
    assert saved["conflicts"]["policy"] == "majority"


def test_bad_data_is_an_error_for_prepare_and_a_verdict_for_validate(tmp_path, capsys):
    rows = [{"text": f"{lab} text {i}", "label": lab} for lab in ("a", "b") for i in range(20)]
    pd.DataFrame([*rows, {"text": "", "label": "a"}]).to_csv(tmp_path / "d.csv", index=False)
    params.write(
        tmp_path / "params.yaml",
        Path(__file__).parents[2] / "conf",
        ["data.source=file", "data.path=d.csv"],
    )
    assert main(["prepare"]) == 2  # exit 1 is the verdict a gate asks for; this is bad input
    assert "row 41" in capsys.readouterr().err
    assert main(["data", "validate", "d.csv"]) == 1  # `data validate` was asked for a verdict
    assert "row 41" in capsys.readouterr().err
