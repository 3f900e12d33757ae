"""The evaluate stage on the session's trained tiny model: metrics, confusion plot data, model card."""

import json
import shutil

import pandas as pd
import pytest
from omegaconf import OmegaConf

from fullcycle.core import evidence, params
from fullcycle.core.errors import FullcycleError
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
    # never predicted: its precision is undefined ("n/a"), not 0.0
    assert got["per_class"]["c"] == {"precision": None, "recall": 0.0, "f1": 0.0, "support": 1}
    assert got["f1_macro"] == round((2 / 3 + 0.5 + 0) / 3, 4)
    assert got["confusion_matrix"] == [[1, 1, 0], [0, 1, 0], [0, 1, 0]]  # rows: actual


def test_scores_of_a_class_without_texts_are_na():
    got = scores(["a", "b", "c"], actual=["a", "a", "b"], predicted=["a", "b", "b"])
    assert got["per_class"]["c"] == {"precision": None, "recall": None, "f1": None, "support": 0}


def test_evaluate_writes_metrics_confusion_plot_and_card(evaluated_project, trained_model):
    from fullcycle import baseline as baseline_stage

    baseline_stage.run(params.load())  # metrics and predictions on the same test split

    metrics = stage.run(params.load(), model_dir=trained_model)

    assert json.loads((evaluated_project / "reports/eval/metrics.json").read_text()) == metrics
    test = metrics["test"]
    # only what people compare (a column of `dvc metrics show` each); no timings (not reproducible)
    assert set(metrics) == {"test"}
    assert list(test) == ["accuracy", "accuracy_ci", "f1_macro", "f1_macro_ci"]
    low, high = test["accuracy_ci"]
    assert low <= test["accuracy"] <= high and high - low > 0.05  # 30 texts: a wide interval
    predictions = evidence.loads(
        (evaluated_project / "reports/eval/predictions.json").read_text(), "predictions"
    )["test"]
    assert predictions.rows == 30 and predictions.labels == tuple(LABELS)
    assert (
        round(float((predictions.predicted[0] == predictions.actual).mean()), 4) == test["accuracy"]
    )
    per_class = json.loads((evaluated_project / "reports/eval/per_class.json").read_text())
    assert list(per_class) == LABELS and set(per_class["tech"]) >= {"f1", "support"}

    confusion = json.loads((evaluated_project / "reports/eval/confusion.json").read_text())
    assert len(confusion) == 30 and set(confusion[0]) == {"actual", "predicted"}
    accuracy = sum(r["actual"] == r["predicted"] for r in confusion) / 30
    assert round(accuracy, 4) == test["accuracy"]

    card = (evaluated_project / "reports/model_card.md").read_text()
    meta = json.loads((trained_model / "fullcycle.json").read_text())
    expected = [
        "| accuracy |",
        "difference (paired)",
        "McNemar's exact test",
        f"({low:.4f}–{high:.4f})",
        f"Data version: `{meta['data']['md5']}`, DVC's hash",
        "actual / predicted",
        "- Rows: train ",
        "test 30\n",
        " parameters, ",
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


SIZE = {"parameters": 10, "size_mb": 0.1}


def test_card_names_the_raw_files_dvc_hash():
    meta = {"labels": ["a", "b"], "max_length": 8, "data": {"md5": "0123abcd.dir"}}
    metrics = {"test": scores(["a", "b"], ["a", "b"], ["a", "b"])}
    matrix, per_class = metrics["test"].pop("confusion_matrix"), metrics["test"].pop("per_class")
    raw = {"path": "data/raw/r.csv", "md5": "feedbeef", "dvc_file": "data/raw/r.csv.dvc"}
    card = render(meta, metrics, SIZE, per_class, matrix, None, raw)
    assert "Data version: `0123abcd.dir`" in card
    assert "Raw data: `data/raw/r.csv`, `feedbeef` in `data/raw/r.csv.dvc`" in card


def test_card_without_a_baseline_says_how_to_get_one():
    meta = {"labels": ["a", "b"], "max_length": 8, "base_model": "tiny", "params": {"seed": 1}}
    metrics = {"test": scores(["a", "b"], ["a", "b"], ["a", "a"])}
    matrix, per_class = metrics["test"].pop("confusion_matrix"), metrics["test"].pop("per_class")
    card = render(meta, metrics, SIZE, per_class, matrix, None)
    assert "No baseline metrics found" in card and "| accuracy | 0.5000 | n/a | n/a |" in card


def test_card_says_the_paired_verdict_against_the_baseline():
    labels = ["a", "b"]
    texts = [f"t{i}" for i in range(200)]
    actual = ["a", "b"] * 100
    model = evidence.Predictions.of(labels, texts, actual, actual[:190] + ["a"] * 10)
    base = evidence.Predictions.of(labels, texts, actual, actual[:150] + ["a"] * 50)
    meta = {"labels": labels, "max_length": 8, "base_model": "tiny", "params": {"seed": 1}}
    test = scores(labels, actual, [labels[i] for i in model.predicted[0]])
    metrics = {"test": stage.with_interval(test, model)}
    matrix, per_class = metrics["test"].pop("confusion_matrix"), metrics["test"].pop("per_class")
    baseline = {"test": evidence.interval(base)}
    paired = evidence.compare(base, model)
    card = render(meta, metrics, SIZE, per_class, matrix, baseline, None, paired)
    assert "better beyond noise" in card
    assert "20 are right only for this model and 0 only for the baseline" in card


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
