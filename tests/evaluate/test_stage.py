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
    assert set(test) == {"accuracy", "f1_macro", "rows", "per_class"} and test["rows"] == 30
    assert list(test["per_class"]) == LABELS
    assert metrics["latency_ms"]["one_text"] > 0 and metrics["model"]["parameters"] > 10_000
    assert metrics["model"]["size_mb"] > 0

    confusion = json.loads((evaluated_project / "reports/eval/confusion.json").read_text())
    assert len(confusion) == 30 and set(confusion[0]) == {"actual", "predicted"}
    accuracy = sum(r["actual"] == r["predicted"] for r in confusion) / 30
    assert round(accuracy, 4) == test["accuracy"]

    card = (evaluated_project / "reports/model_card.md").read_text()
    meta = json.loads((trained_model / "fullcycle.json").read_text())
    expected = [
        "| accuracy |",
        "0.9595",
        meta["data"]["md5"],
        meta["git_commit"],
        "actual / predicted",
        "## Training parameters",
        "## Limits",
    ]
    assert [text for text in expected if text not in card] == []


def test_card_without_a_baseline_says_how_to_get_one():
    meta = {"labels": ["a", "b"], "max_length": 8, "base_model": "tiny", "params": {"seed": 1}}
    metrics = {
        "test": scores(["a", "b"], ["a", "b"], ["a", "a"]),
        "model": {"parameters": 10, "size_mb": 0.1},
        "latency_ms": {"one_text": 1.0, "per_text_batch_32": 0.5},
    }
    matrix = metrics["test"].pop("confusion_matrix")
    card = render(meta, metrics, matrix, None, device="cpu")
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
