"""The same cases with all-MiniLM-L6-v2's real sentence embeddings (slow: the model scores every
BBC text twice on the CPU). Its head is untrained, so predictions stay a weak signal; embedding
drift becomes a real one and must not false-alarm on held-out slices either."""

from __future__ import annotations

import pandas as pd
import pytest
from omegaconf import OmegaConf

from fullcycle.core import params
from fullcycle.monitor.checks import evaluate

from .conftest import FAST, REPO, CachedScorer, build_untrained_model, docstrings
from .test_checks import PHRASE, SEEDS, drifted, splits, verdicts

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def minilm(tmp_path_factory, bbc):
    cfg = OmegaConf.create(params.compose(REPO / "conf", ["model=minilm", *FAST]))
    labels = sorted(bbc["label"].unique())
    model_dir = build_untrained_model(tmp_path_factory.mktemp("minilm") / "classifier", cfg, labels)
    return cfg, CachedScorer(model_dir)


@pytest.mark.parametrize("seed", SEEDS)
def test_held_out_slices_are_not_drift(minilm, bbc, seed):
    cfg, scorer = minilm
    parts = splits(bbc, cfg, seed)
    _, checks = evaluate(
        scorer(parts["train"]), scorer(parts["production"]), cfg.monitor, seed, scorer.labels
    )
    assert not drifted(checks), verdicts(checks)


def test_drift_cases_are_detected(minilm, bbc):
    cfg, scorer = minilm
    parts = splits(bbc, cfg, 42)
    held_out = pd.concat([parts["val"], parts["test"], parts["production"]])
    production = parts["production"]
    cases = {
        "topic mix": held_out[held_out["label"].isin(["sports", "entertainment"])],
        "another domain": pd.DataFrame({"text": docstrings(), "label": None}),
        "appended phrase": production.assign(text=production["text"] + PHRASE),
        "truncated": production.assign(text=production["text"].str.split().str[:50].str.join(" ")),
    }
    reference = scorer(parts["train"])
    fired = {}
    for name, current in cases.items():
        _, checks = evaluate(reference, scorer(current), cfg.monitor, 42, scorer.labels)
        print(name, verdicts(checks))
        fired[name] = drifted(checks)
    assert all(fired.values()), fired
    # real sentence embeddings see a topic shift and another domain
    assert "embeddings" in fired["topic mix"] and "embeddings" in fired["another domain"], fired
