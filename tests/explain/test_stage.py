"""The explain stage on the session's trained tiny model: outputs, determinism, the budget."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from fullcycle.core import params
from fullcycle.core.explain_summary import PAGE, SUMMARY
from fullcycle.explain import stage
from tests.conftest import run

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def explained_project(project, trained_model):
    shutil.copytree(trained_model.parents[1] / "data/processed", project / "data/processed")
    shutil.copytree(trained_model, project / "models/classifier")
    return project


def _hashes(root: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256((root / p).read_bytes()).hexdigest() for p in (PAGE, SUMMARY)}


def test_two_runs_write_the_same_bytes(explained_project):
    """Same model, data and params: the same page and summary, byte for byte (two processes:
    this one, then `fullcycle explain` in a fresh one)."""
    stage.run(params.load())
    hashes = _hashes(explained_project)
    (explained_project / PAGE).unlink()
    second = run(explained_project, "fullcycle", "explain")
    assert "explained" in second.stdout
    assert _hashes(explained_project) == hashes


def test_outputs_cover_the_selected_texts(explained_project):
    summary = stage.run(params.load())
    on_disk = json.loads((explained_project / SUMMARY).read_text())
    assert on_disk == summary
    counts = summary["texts"]
    assert counts["explained"] == counts["selected"] > counts["misclassified"]
    assert set(summary["top_words"]) == {"business", "entertainment", "politics", "sports", "tech"}
    assert summary["max_abs_delta"] < 0.05
    html = (explained_project / PAGE).read_text()
    assert html.count('class="text"') == counts["explained"]
    assert "Not explained" not in html


def test_the_budget_cuts_deterministically_and_says_so(explained_project):
    cfg = params.load()
    full = stage.run(cfg)["budget"]
    assert full["explained_token_steps"] == full["selected_token_steps"]
    cfg.explain.budget_token_steps = full["selected_token_steps"] // 3
    summary = stage.run(cfg)
    counts, budget = summary["texts"], summary["budget"]
    assert 0 < counts["explained"] < counts["selected"]
    assert budget["explained_token_steps"] <= budget["token_steps"]
    assert budget["selected_token_steps"] == full["selected_token_steps"]
    html = (explained_project / PAGE).read_text()
    assert html.count('class="text"') == counts["explained"]
    assert f"Not explained ({counts['selected'] - counts['explained']}: over the budget)" in html
    assert f"budget_token_steps to {full['selected_token_steps']:,}" in html
    assert stage.run(cfg) == summary  # the same cut every time


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("explain.n_steps=0", "explain.n_steps = 0: must be a whole number >= 1"),
        ("explain.budget_token_steps=0", "explain.budget_token_steps = 0: must be a whole number"),
        ("explain.budget_token_steps=2.5e5", "explain.budget_token_steps = 250000.0: must be a"),
        ("explain.budget_token_steps=lots", "explain.budget_token_steps = 'lots': must be a whole"),
        ("+explain.budget_s=150", "explain.budget_s is no longer read; the budget is explain.budg"),
        ("+explain.cpu_gflops=40", "explain.cpu_gflops is no longer read"),
        (
            "+explain.top_word=5",
            "explain.top_word is not a setting (did you mean explain.top_words",
        ),
    ],
)
def test_bad_params_name_the_key_and_write_nothing(project, capsys, override, message):
    """Refused by the schema (core/schema.py) as the params are read: one line, before any work."""
    from fullcycle.cli import main

    assert main(["explain", override]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert len([line for line in err.splitlines() if "explain." in line]) == 1  # one line
    assert not (project / SUMMARY).exists()


def test_the_model_card_lists_the_top_words(explained_project):
    from fullcycle.evaluate import stage as evaluate

    summary = stage.run(params.load())
    evaluate.run(params.load())
    card = (explained_project / "reports/model_card.md").read_text()
    assert "## Which words drive the predictions" in card and "(explain/index.html)" in card
    for label, words in summary["top_words"].items():
        shown = ", ".join(w["word"] for w in words) or "(too few texts)"
        assert f"| {label} | {shown} |" in card
