"""The promotion gate decides on paired evidence, built here from prediction vectors (no training)."""

import re

import numpy as np
import pytest
import yaml

from fullcycle.core import evidence
from fullcycle.core.errors import FullcycleError
from fullcycle.lifecycle.experiments import (
    BASELINE_METRICS,
    BASELINE_PREDICTIONS,
    EVAL_METRICS,
    EVAL_PREDICTIONS,
    Run,
)
from fullcycle.lifecycle.gate import check_gate
from fullcycle.lifecycle.gate_settings import from_section
from tests.conftest import REPO

# the gate as conf/promote/default.yaml sets it, checked against its schema
GATE = from_section(yaml.safe_load((REPO / "conf/promote/default.yaml").read_text()), "conf")


def gate_with(**changes):
    """The gate with `changes`, as params.yaml holding them would give it."""
    return from_section(GATE.model_dump() | changes, "params.yaml")


LABELS = ["business", "entertainment", "politics", "sports", "tech"]
N = 532  # BBC's test split


def model(errors: int, n: int = N, texts: str = "t", shift: int = 0) -> evidence.Predictions:
    """A model wrong on `errors` texts (the texts shift..shift+errors-1)."""
    actual = np.arange(n) % 5
    guess = actual.copy()
    wrong = (np.arange(errors) + shift) % n
    guess[wrong] = (actual[wrong] + 1) % 5
    return evidence.Predictions(
        tuple(LABELS),
        evidence.split_hash([f"{texts}{i}" for i in range(n)], [LABELS[a] for a in actual]),
        actual,
        guess[None, :],
    )


def run(pred, baseline=None, labelled=None, name="c") -> Run:
    interval = evidence.interval(pred)
    eval_sets = {"test": pred} | ({"labelled": labelled} if labelled is not None else {})
    base = baseline if baseline is not None else model(17, texts="t")  # TF-IDF: 0.968
    return Run(
        rev=name,
        name=name,
        metrics_by_file={
            EVAL_METRICS: {"test": interval},
            BASELINE_METRICS: {"test": evidence.interval(base)},
        },
        predictions_by_file={EVAL_PREDICTIONS: eval_sets, BASELINE_PREDICTIONS: {"test": base}},
    )


def test_the_tpe_promotion_is_refused_naming_the_interval():
    main = run(model(9), name="main")  # 0.983
    candidate = run(model(12), name="bbc-0-full")  # three articles worse
    gate = check_gate(candidate, main, GATE)
    assert not gate.passed and not gate.vs_main
    why = gate.failure()
    assert "vs main: f1_macro" in why and "not distinguishable" in why
    assert "(95% interval " in why and "rule is better beyond noise" in why


def test_a_candidate_better_beyond_noise_passes():
    main = run(model(25), name="main")
    candidate = run(model(5))
    gate = check_gate(candidate, main, GATE)
    assert gate.passed, gate.failure()
    assert gate.headline() == "better beyond noise vs main"
    assert "| vs main |" in gate.table() and "✅ pass" in gate.table()


def test_a_candidate_with_mains_predictions_has_nothing_to_promote():
    main = run(model(9), name="main")
    same = run(model(9))
    gate = check_gate(same, main, gate_with(rule="non_inferior", margin=0.02))
    assert not gate.passed
    assert "predictions equal the reference's on all 532 texts" in gate.failure()


def test_non_inferior_passes_a_slightly_worse_cheaper_model_and_refuses_a_worse_one():
    main = run(model(9), name="main")
    rules = gate_with(rule="non_inferior", margin=0.03)
    assert check_gate(run(model(12), baseline=model(30)), main, rules).passed
    assert not check_gate(run(model(40)), main, rules).passed


def test_the_model_must_beat_the_baseline_beyond_noise():
    one_article = run(model(16), baseline=model(17))  # the old README's "beats the baseline"
    gate = check_gate(one_article, None, GATE)
    assert not gate.passed and gate.vs_main  # no model on main yet
    assert gate.failure().startswith("vs baseline:") and "not distinguishable" in gate.failure()
    assert check_gate(run(model(3), baseline=model(17)), None, GATE).passed


def test_main_scored_on_another_split_leaves_the_baseline_to_decide():
    main = run(model(9, texts="old"), name="main")
    gate = check_gate(run(model(3)), main, GATE)
    assert gate.passed and "main scored another test split" in gate.table()


def test_the_retrain_passes_on_the_labelled_slice_when_not_worse_on_test():
    slice_main = model(40, n=150, texts="slice")  # the drifted traffic main got wrong
    slice_new = model(5, n=150, texts="slice")
    main = run(model(9), labelled=slice_main, name="main")
    # on test: one article worse than main (noise), wrong where TF-IDF is wrong too
    retrained = run(model(10, shift=100), baseline=model(30, shift=95), labelled=slice_new)
    gate = check_gate(retrained, main, GATE)
    assert gate.passed, gate.failure()
    assert gate.via_labelled and gate.headline() == "better beyond noise on the labelled slice"
    assert "| vs main, labelled slice |" in gate.table()
    # the same gain on the slice, but worse beyond noise on test: refused
    worse = run(model(40, shift=100), labelled=slice_new)
    assert not check_gate(worse, main, GATE).passed
    # no gain on the slice beyond noise (2 labelled rows): refused, as on test alone
    tiny_main, tiny_new = model(1, n=2, texts="few"), model(0, n=2, texts="few")
    few = check_gate(
        run(model(10, shift=100), labelled=tiny_new), run(model(9), labelled=tiny_main), GATE
    )
    assert not few.passed


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("rule", "bigger", "promote.rule = 'bigger': must be one of superior, non_inferior"),
        ("margin", -0.1, "promote.margin = -0.1: must be a number >= 0"),
        ("confidence", 95, "promote.confidence = 95: must be a number in [0.5, 1)"),
        ("metric", "test.rows", "promote.metric = 'test.rows': must be one of test.accuracy, test"),
        ("release_stage", "staging", "promote.release_stage = 'staging': must be one of dev, prod"),
    ],
)
def test_a_bad_gate_setting_is_named(key, value, message):
    with pytest.raises(FullcycleError, match=re.escape(message)) as error:
        gate_with(**{key: value})
    assert str(error.value) == f"params.yaml: {message}" + str(error.value).split(message)[1]
    assert str(error.value).endswith("(conf/promote/default.yaml)") and "\n" not in str(error.value)


def test_a_base_branch_that_predates_a_setting_says_so_and_what_to_do(tmp_path, monkeypatch):
    """The gate is read from the base branch: no default stands in for a setting it lacks."""
    from fullcycle.core import params
    from fullcycle.lifecycle.gate_settings import settings
    from tests.conftest import git

    composed = params.compose(REPO / "conf")
    del composed["promote"]["release_stage"]
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(composed))
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", "params.yaml")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "old main")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FullcycleError) as error:
        settings("HEAD", "origin/main")
    first, advice = str(error.value).splitlines()
    assert first.startswith("params.yaml at origin/main: promote.release_stage is missing: must")
    assert "merge it first (`git merge origin/main`)" in advice and "predates a setting" in advice
    composed["promote"]["release_stage"] = "dev"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(composed))
    assert settings().release_stage == "dev"  # the params.yaml here
