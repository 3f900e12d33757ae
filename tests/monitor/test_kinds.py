"""The kind of drift: a topic-mix shift, a new domain and a quality drop are told apart, and labels
the model does not know are reported, never scored as errors."""

from __future__ import annotations

import pandas as pd
import pytest
from omegaconf import OmegaConf

from fullcycle.monitor.checks import Baseline, evaluate
from fullcycle.monitor.kinds import classify, describe

from .conftest import docstrings
from .test_checks import splits, verdicts


@pytest.fixture(scope="module")
def seed42(bbc, cfg, scorer):
    parts = splits(bbc, cfg, 42)
    return parts, scorer(parts["train"])


def kinds_of(cfg, scorer, seed42, current, baseline=None, **settings):
    _, reference = seed42
    cur = scorer(current) if isinstance(current, pd.DataFrame) else current
    _, checks = evaluate(reference, cur, cfg.monitor, 42, scorer.labels, baseline)
    monitor = OmegaConf.merge(cfg.monitor, {"kinds": settings}) if settings else cfg.monitor
    return classify(reference, cur, checks, monitor, scorer.labels), checks


def test_one_known_topic_is_a_topic_mix_shift_that_only_warns(cfg, scorer, seed42):
    parts, _ = seed42
    held_out = pd.concat([parts["val"], parts["test"], parts["production"]])
    current = scorer(held_out[held_out["label"] == "sports"])
    current.predicted = current.texts.texts["label"].to_numpy()  # a confident, correct model
    kinds, checks = kinds_of(cfg, scorer, seed42, current)
    found = {"topic_mix": True, "new_domain": False, "quality_drop": False, "replay": False}
    assert kinds["found"] == found, (
        kinds["evidence"],
        verdicts(checks),
    )
    assert not kinds["fails_gate"]  # default: a topic-mix shift warns
    assert kinds["label_shares"]["current"]["sports"] == 1.0
    text = "\n".join(describe(kinds))
    assert "kind: topic-mix shift (warning only), from: " in text and "-> 100%" in text
    # named on the checks that fired, and those say which way their statistic moved
    rests_on = kinds["rests_on"]["topic_mix"]
    assert rests_on and all(c.drift for c in checks if c.name in rests_on)
    shares = next(c for c in checks if c.name == "predictions").moved  # the label moved most
    label = shares.statistic.removeprefix('share predicted "').removesuffix('"')
    now, before = kinds["label_shares"]["current"][label], kinds["label_shares"]["reference"][label]
    assert shares.current == pytest.approx(100 * now, abs=0.01) and now != before
    assert shares.reference == pytest.approx(100 * before, abs=0.01)
    strict, _ = kinds_of(cfg, scorer, seed42, current, fail_on=["topic_mix"])
    assert strict["fails_gate"]


def test_texts_from_another_domain_are_a_new_domain(cfg, scorer, seed42):
    current = pd.DataFrame({"text": docstrings(), "label": None})
    kinds, checks = kinds_of(cfg, scorer, seed42, current)
    assert kinds["found"]["new_domain"] and not kinds["found"]["topic_mix"], verdicts(checks)
    assert kinds["fails_gate"]
    assert kinds["evidence"]["new_domain"]["unseen_words"]
    assert "kind: new domain (fails the gate), from: " in describe(kinds)[0]
    oov = next(c for c in checks if c.name == "oov_share")
    assert oov.drift and oov.moved.direction == "up"  # one-sided: a rise is harm


def test_replayed_training_texts_are_named_as_such_not_as_a_topic_mix(cfg, scorer, seed42):
    """Half the traffic is training texts verbatim: fewer unseen words than training's own (the
    OOV check is one-sided, so that is not drift) and a kind that says traffic moved *toward*
    training."""
    parts, _ = seed42
    current = pd.concat([parts["train"].iloc[:60], parts["production"].iloc[:60]])
    kinds, checks = kinds_of(cfg, scorer, seed42, current)
    by_name = {c.name: c for c in checks}
    oov = by_name["oov_share"]
    assert oov.moved.direction == "down" and oov.moved.current < oov.moved.reference
    assert not oov.drift  # only a rise is harm
    assert kinds["found"]["replay"] and not kinds["found"]["new_domain"], verdicts(checks)
    assert kinds["evidence"]["training_copies"]["share"] == 0.5
    assert "training_copies" in kinds["rests_on"]["replay"]
    assert kinds["found"]["topic_mix"] == any(c.drift for c in checks)  # only on checks that fired
    assert not kinds["fails_gate"]  # default fail_on: new_domain, quality_drop
    text = "\n".join(describe(kinds))
    assert "kind: replayed data (warning only)" in text
    assert "50% of current texts are training texts verbatim" in text
    # every check says which way its statistic moved
    assert all(c.moved is not None and c.moved.direction in ("up", "down", "same") for c in checks)


def test_worse_accuracy_is_a_quality_drop_and_unknown_labels_are_not_errors(cfg, scorer, seed42):
    parts, _ = seed42
    production = parts["production"]
    baseline = Baseline(accuracy=0.99, rows=300)
    kinds, _ = kinds_of(cfg, scorer, seed42, production, baseline)
    assert kinds["found"]["quality_drop"] and kinds["fails_gate"]
    # the same texts, half relabelled with a label the model has never seen
    unknown = production.assign(
        label=["weather" if i % 2 else x for i, x in enumerate(production["label"])]
    )
    kinds2, checks2 = kinds_of(cfg, scorer, seed42, unknown, baseline)
    assert kinds2["unknown_labels"] == {"weather": len(production) // 2}
    assert "unknown labels (not scored): weather" in "\n".join(describe(kinds2))
    accuracy = {c.name: c for c in checks2}.get("accuracy_drop")
    labelled = production.iloc[::2]
    predicted = scorer(labelled).predicted
    expected = 0.99 - float((predicted == labelled["label"].to_numpy()).mean())
    assert accuracy is not None and abs(accuracy.score - expected) < 1e-9  # known labels only
