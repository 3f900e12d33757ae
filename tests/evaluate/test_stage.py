"""The evaluate stage on the session's trained tiny model: metrics, confusion plot data, model card."""

import json
import shutil

import pandas as pd
import pytest
from omegaconf import OmegaConf

from fullcycle import params
from fullcycle.errors import FullcycleError
from fullcycle.evaluate import stage
from fullcycle.evaluate.card import render
from fullcycle.evaluate.stage import scores

pytestmark = pytest.mark.usefixtures("one_thread")

LABELS = ["business", "entertainment", "politics", "sports", "tech"]


@pytest.fixture
def evaluated_project(project, trained_model):
    shutil.copytree(trained_model.parents[1] / "data/processed", project / "data/processed")
    return project


def test_scores_on_known_predictions():
    got = scores(["a", "b", "c"], actual=["a", "a", "b", "c"], predicted=["a", "b", "b", "b"])
    assert got["accuracy"] == 0.5 and got["rows"] == 4
    assert got["per_class"]["a"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "support": 2}
    assert got["per_class"]["b"] == {"precision": 0.3333, "recall": 1.0, "f1": 0.5, "support": 1}
    assert got["per_class"]["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert got["f1_macro"] == round((2 / 3 + 0.5 + 0) / 3, 4)
    assert got["confusion_matrix"] == [[1, 1, 0], [0, 1, 0], [0, 1, 0]]  # rows: actual


def test_evaluate_writes_metrics_confusion_plot_and_card(evaluated_project, trained_model):
    baseline = {"test": {"accuracy": 0.9595, "f1_macro": 0.9588, "rows": 30}}
    (evaluated_project / "reports/baseline").mkdir(parents=True)
    (evaluated_project / "reports/baseline/metrics.json").write_text(json.dumps(baseline))

    metrics = stage.run(params.load(), model_dir=trained_model)

    assert json.loads((evaluated_project / "reports/eval/metrics.json").read_text()) == metrics
    test = metrics["test"]
    assert set(metrics) == {"test", "model"}  # what people compare; no timings (not reproducible)
    assert set(test) == {"accuracy", "f1_macro", "rows"} and test["rows"] == 30
    per_class = json.loads((evaluated_project / "reports/eval/per_class.json").read_text())
    assert list(per_class) == LABELS and set(per_class["tech"]) >= {"f1", "support"}
    assert metrics["model"]["parameters"] > 10_000 and metrics["model"]["size_mb"] > 0

    confusion = json.loads((evaluated_project / "reports/eval/confusion.json").read_text())
    assert len(confusion) == 30 and set(confusion[0]) == {"actual", "predicted"}
    accuracy = sum(r["actual"] == r["predicted"] for r in confusion) / 30
    assert round(accuracy, 4) == test["accuracy"]

    card = (evaluated_project / "reports/model_card.md").read_text()
    meta = json.loads((trained_model / "fullcycle.json").read_text())
    expected = [
        "| accuracy |",
        "0.9595",
        f"Data version: `{meta['data']['md5']}`, DVC's hash",
        "actual / predicted",
        "## Training parameters",
        "## Limits",
    ]
    assert [text for text in expected if text not in card] == []
    assert meta["data"]["md5"].endswith(".dir") and " ms" not in card  # no timings

    # the same inputs write the same bytes
    first = {p.name: p.read_bytes() for p in (evaluated_project / "reports/eval").iterdir()}
    stage.run(params.load(), model_dir=trained_model)
    again = {p.name: p.read_bytes() for p in (evaluated_project / "reports/eval").iterdir()}
    assert again == first and (evaluated_project / "reports/model_card.md").read_text() == card


def test_card_names_the_raw_files_dvc_hash():
    meta = {"labels": ["a", "b"], "max_length": 8, "data": {"md5": "0123abcd.dir"}}
    metrics = {"test": scores(["a", "b"], ["a", "b"], ["a", "b"]), "model": {"parameters": 1}}
    metrics["model"]["size_mb"] = 0.1
    matrix, per_class = metrics["test"].pop("confusion_matrix"), metrics["test"].pop("per_class")
    raw = {"path": "data/raw/r.csv", "md5": "feedbeef", "dvc_file": "data/raw/r.csv.dvc"}
    card = render(meta, metrics, per_class, matrix, None, raw)
    assert "Data version: `0123abcd.dir`" in card
    assert "Raw data: `data/raw/r.csv`, `feedbeef` in `data/raw/r.csv.dvc`" in card


def test_card_without_a_baseline_says_how_to_get_one():
    meta = {"labels": ["a", "b"], "max_length": 8, "base_model": "tiny", "params": {"seed": 1}}
    metrics = {
        "test": scores(["a", "b"], ["a", "b"], ["a", "a"]),
        "model": {"parameters": 10, "size_mb": 0.1},
    }
    matrix, per_class = metrics["test"].pop("confusion_matrix"), metrics["test"].pop("per_class")
    card = render(meta, metrics, per_class, matrix, None)
    assert "No baseline metrics found" in card and "| accuracy | 0.5000 | n/a | n/a |" in card


def test_missing_model_says_train_first(evaluated_project):
    with pytest.raises(FullcycleError, match=r"run `fullcycle train`"):
        stage.run(params.load())
    assert not (evaluated_project / "reports/eval").exists()


def test_test_labels_unknown_to_the_model_are_named(evaluated_project, trained_model):
    test = evaluated_project / "data/processed/test.parquet"
    rows = pd.read_parquet(test)
    rows.loc[4, "label"] = "weather"
    rows.to_parquet(test, index=False)
    with pytest.raises(
        FullcycleError, match=r"test.parquet, row 5, column 'label': label\(s\) \['weather'\]"
    ):
        stage.run(OmegaConf.create(params.load()), model_dir=trained_model)
    assert not (evaluated_project / "reports/eval").exists()


def test_a_broken_baseline_file_is_named(evaluated_project, trained_model):
    (evaluated_project / "reports/baseline").mkdir(parents=True)
    (evaluated_project / "reports/baseline/metrics.json").write_text("{not json")
    with pytest.raises(FullcycleError, match=r"reports/baseline/metrics.json is not valid JSON"):
        stage.run(params.load(), model_dir=trained_model)
    assert not (evaluated_project / "reports/eval").exists()
