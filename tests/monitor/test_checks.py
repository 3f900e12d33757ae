"""The drift checks on the real BBC corpus with a tiny untrained model (the real Evidently report).

An untrained model's predictions and embeddings carry little signal, so these cases rest on the
text, descriptor and vocabulary checks; a trained model adds prediction and embedding drift on top.
"""

from __future__ import annotations

import os

import pandas as pd
import pytest
from omegaconf import OmegaConf

from fullcycle.data.split import split_fractions, stratified_split
from fullcycle.monitor.checks import Baseline, auc_chance, evaluate, text_sample

from .conftest import docstrings

SEEDS = [42, 1, 2, 3, 4]
PHRASE = " Sign up for our newsletter to get the latest updates."


def splits(bbc: pd.DataFrame, cfg, seed: int) -> dict[str, pd.DataFrame]:
    return stratified_split(bbc, split_fractions(OmegaConf.to_container(cfg.data.split)), seed)


def verdicts(checks) -> dict[str, str]:
    """Readable assertion messages: every check's score against its limit."""
    return {c.name: f"{c.score:.3f} {'>=' if c.drift else '<'} {c.limit:.3f}" for c in checks}


def drifted(checks) -> set[str]:
    return {c.name for c in checks if c.drift}


def held_out_baseline(scorer, test_split: pd.DataFrame) -> Baseline:
    predicted = scorer(test_split).predicted
    return Baseline(float((predicted == test_split["label"].to_numpy()).mean()), len(test_split))


@pytest.mark.parametrize("seed", SEEDS)
def test_held_out_slice_of_the_same_corpus_is_not_drift(bbc, cfg, scorer, seed):
    """The split seed decides which texts are held out: five different production slices."""
    parts = splits(bbc, cfg, seed)
    reference, current = scorer(parts["train"]), scorer(parts["production"])
    baseline = held_out_baseline(scorer, parts["test"])  # labelled: the accuracy check runs too
    _, checks = evaluate(reference, current, cfg.monitor, seed, scorer.labels, baseline)
    assert len(checks) == 8 and not drifted(checks), verdicts(checks)


@pytest.fixture(scope="module")
def seed42(bbc, cfg, scorer):
    parts = splits(bbc, cfg, 42)
    return parts, scorer(parts["train"])


def run_case(cfg, scorer, seed42, current: pd.DataFrame):
    _, reference = seed42
    _, checks = evaluate(reference, scorer(current), cfg.monitor, 42, scorer.labels)
    return checks


def test_a_different_topic_mix_is_drift(cfg, scorer, seed42):
    parts, _ = seed42
    held_out = pd.concat([parts["val"], parts["test"], parts["production"]])
    current = scorer(held_out[held_out["label"].isin(["sports", "entertainment"])])
    # as if the model were perfect: two classes only, which Evidently's accuracy cannot take
    current.predicted = current.texts.texts["label"].to_numpy()
    baseline = Baseline(accuracy=0.9, rows=300)
    _, reference = seed42
    _, checks = evaluate(reference, current, cfg.monitor, 42, scorer.labels, baseline)
    assert "text" in drifted(checks), verdicts(checks)
    assert {c.name: c.score for c in checks}["accuracy_drop"] == pytest.approx(-0.1)


def test_texts_from_another_domain_are_drift(cfg, scorer, seed42):
    current = pd.DataFrame({"text": docstrings(), "label": None})
    checks = run_case(cfg, scorer, seed42, current)
    # everything about them differs: words, length, punctuation, vocabulary
    assert {"text", "text_length", "non_letter_share", "oov_share"} <= drifted(checks), verdicts(
        checks
    )


def test_a_phrase_appended_to_every_text_is_drift(cfg, scorer, seed42):
    parts, _ = seed42
    current = parts["production"].assign(text=parts["production"]["text"] + PHRASE)
    checks = run_case(cfg, scorer, seed42, current)
    assert "text" in drifted(checks), verdicts(checks)


def test_truncated_texts_are_drift_and_labels_bring_a_quality_check(cfg, scorer, seed42):
    parts, reference = seed42
    first_words = parts["production"]["text"].str.split().str[:50].str.join(" ")
    current = scorer(parts["production"].assign(text=first_words))
    baseline = Baseline(accuracy=0.99, rows=300)  # as if the model had been excellent on test
    snapshot, checks = evaluate(reference, current, cfg.monitor, 42, scorer.labels, baseline)
    assert {"text_length", "word_count", "accuracy_drop"} <= drifted(checks), verdicts(checks)
    assert "Accuracy" in str(snapshot.dict()["metrics"])  # Evidently's quality metrics too


def test_text_sample_keeps_current_under_a_third_of_the_pooled_texts():
    for n_ref, n_cur in [(1272, 320), (1272, 10_000), (120, 30), (60, 500)]:
        ref_rows, cur_rows = text_sample(n_ref, n_cur, seed=0)
        assert len(cur_rows) <= len(ref_rows) / 2 + 0.5 and len(set(ref_rows)) == len(ref_rows)
        assert len(cur_rows) == min(n_cur, n_ref // 2)


def test_chance_level_shrinks_with_sample_size():
    assert auc_chance(30, 10, 0.999) > 0.8 > auc_chance(640, 320, 0.999) > 0.55


def test_chance_levels_do_not_depend_on_pythons_hash_seed():
    """Evidently counts categories in set order; the limit (and so report.html's bytes) must not
    move with PYTHONHASHSEED."""
    import subprocess
    import sys

    code = (
        "import numpy as np, pandas as pd\n"
        "from omegaconf import OmegaConf\n"
        "from evidently.legacy.core import ColumnType\n"
        "from fullcycle.monitor.checks import permutation_chance\n"
        "rng = np.random.default_rng(0)\n"
        "labels = ['business', 'entertainment', 'politics', 'sports', 'tech']\n"
        "ref, cur = pd.Series(rng.choice(labels, 600)), pd.Series(rng.choice(labels, 100))\n"
        "cfg = OmegaConf.create({'permutations': 50, 'confidence': 0.999})\n"
        "print(list(set(labels)))\n"
        "print(repr(permutation_chance(ref, cur, 'jensenshannon', ColumnType.Categorical, cfg, 1)))"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            check=True,
        ).stdout.splitlines()
        for seed in (0, 1)
    ]
    (order_0, chance_0), (order_1, chance_1) = runs
    assert order_0 != order_1  # the two seeds do put the categories in different set orders
    assert chance_0 == chance_1
