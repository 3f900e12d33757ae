"""Intervals, the marks against the best trial and the sentence on main, from prediction vectors
(no training): marks.py's judgement and results.py's table, on a study held in memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import optuna
import pytest
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState, create_trial

from fullcycle.core import evidence
from fullcycle.core.evidence import Predictions
from fullcycle.tune import marks, results
from fullcycle.tune import study as studies

LABELS = ("a", "b", "c")
N = 240
TEXTS = [f"text {i}" for i in range(N)]
ACTUAL = [LABELS[i % 3] for i in range(N)]
HEAD = "c0ffee1234567890c0ffee1234567890c0ffee12"


def predictions(wrong: int, offset: int = 0) -> Predictions:
    """A model that gets `wrong` texts wrong (from text `offset` on), the rest right."""
    guess = list(ACTUAL)
    for i in range(offset, offset + wrong):
        guess[i] = LABELS[(LABELS.index(ACTUAL[i]) + 1) % 3]
    return Predictions.of(LABELS, TEXTS, ACTUAL, guess)


# best: 8 wrong; near: 10 wrong (2 texts apart: noise); worse: 70 wrong; main: 9 wrong
RUNS = {
    "s-0": predictions(8),
    "s-1": predictions(10, offset=1),
    "s-2": predictions(70),
    "s-2-s1": predictions(66),
    "s-3": None,  # an old run: no val_predictions.json
    HEAD: predictions(9, offset=2),
}


def reader(runs: dict[str, Predictions | None]) -> marks.Reader:
    def read(rev: str) -> tuple[Predictions | None, str]:
        found = runs.get(rev)
        return found, "" if found else "its run saved no dvclive/val_predictions.json"

    return read


read = reader(RUNS)


def f1(pred: Predictions) -> float:
    return evidence.interval(pred)["f1_macro"]


def make_study(runs: dict[str, Predictions | None] = RUNS) -> optuna.Study:
    study = optuna.create_study(study_name="s", direction="maximize")
    lr = FloatDistribution(1e-5, 1e-3, log=True)
    for number, names in enumerate([["s-0"], ["s-1"], ["s-2", "s-2-s1"], ["s-3"]]):
        values = [f1(runs[n]) if runs.get(n) else 0.5 for n in names]
        attrs = {
            studies.EXPERIMENT: names[0],
            studies.EXPERIMENTS: names,
            studies.SEED_VALUES: values,
            studies.COMMIT: HEAD,
        }
        study.add_trial(
            create_trial(
                value=sum(values) / len(values),
                params={"train.lr": 1e-4 * (number + 1)},
                distributions={"train.lr": lr},
                user_attrs=attrs,
            )
        )
    study.add_trial(
        create_trial(
            state=TrialState.PRUNED,
            params={"train.lr": 9e-4},
            distributions={"train.lr": lr},
            intermediate_values={0: 0.41},
            user_attrs={studies.EXPERIMENT: "s-4"},
        )
    )
    return study


def test_trials_are_marked_against_the_best_by_a_paired_comparison():
    found = marks.judge({0: RUNS["s-0"], 1: RUNS["s-1"], 2: RUNS["s-2"], 3: None}, best=0)
    assert found.marks == {0: marks.BEST, 1: marks.NEAR, 2: evidence.WORSE}
    assert found.near() == [1] and found.rows == N
    assert sorted(found.intervals) == [0, 1, 2]  # no predictions: no interval
    low, high = found.intervals[0]
    assert low < f1(RUNS["s-0"]) < high and high - low < 0.1


def test_a_trial_s_seeds_are_one_prediction_set_whose_metric_is_their_mean():
    study = make_study()
    trial = study.trials[2]
    pred = marks.trial_predictions(trial, read)
    assert pred is not None and pred.predicted.shape == (2, N)
    assert f1(pred) == pytest.approx((f1(RUNS["s-2"]) + f1(RUNS["s-2-s1"])) / 2, abs=1e-4)
    assert trial.value == pytest.approx(np.mean(trial.user_attrs[studies.SEED_VALUES]))
    # one seed without predictions: the trial has none (no half-evidence)
    assert marks.trial_predictions(trial, lambda rev: read("s-3" if "-s1" in rev else rev)) is None


def test_the_summary_shows_intervals_marks_and_the_sentence_on_main():
    study = make_study()
    found = marks.gather(study, read)
    out = results.summary(study, found)
    table = out.split("\n\n")[1]
    assert max(len(line) for line in out.splitlines()) <= 100
    rows = {line.split()[0]: line for line in table.splitlines()[3:]}
    assert list(rows) == ["s-0", "s-1", "s-2", "s-3", "s-4"]  # best first, pruned last
    assert rows["s-0"].split()[1:4] == [f"{study.trials[0].value:.4f}", *_ci(found, 0), "best"]
    assert "≈ best" in rows["s-1"] and "worse beyond noise" in rows["s-2"]
    assert rows["s-3"].split()[2:4] == ["-", "-"] and "pruned@0" in rows["s-4"]
    assert "not distinguishable from it on validation: s-1 " in out
    # 8 wrong against main's 9: not distinguishable, said in words with the commit
    assert "vs main: the best trial is NOT distinguishable from main's current params (commit" in (
        " ".join(out.split())
    )
    assert "c0ffee12" in out and "promote it with: fullcycle promote s-0" in out


def _ci(found: marks.Evidence, number: int) -> list[str]:
    low, high = found.intervals[number]
    return [f"{low:.3f}-{high:.3f}"]


def test_main_without_predictions_is_said_plainly():
    found = marks.gather(make_study(), reader({**RUNS, HEAD: None}))
    assert found.main == (
        "vs main: main's current params (commit c0ffee12) cannot be compared: its run saved no "
        "dvclive/val_predictions.json."
    )
    assert marks.versus_main(RUNS["s-0"], None, None).startswith("vs main: not compared")


def test_main_far_behind_or_ahead_is_beyond_noise():
    better = marks.versus_main(RUNS["s-0"], RUNS["s-2"], HEAD)
    assert better.startswith("vs main: the best trial is better beyond noise than main's")
    worse = marks.versus_main(RUNS["s-2"], RUNS["s-0"], HEAD)
    assert worse.startswith("vs main: the best trial is worse beyond noise than main's")
    same = marks.versus_main(RUNS["s-0"], RUNS["s-0"], HEAD)
    assert "predicts every validation text as main's current params" in same
    other = Predictions.of(LABELS, [t + "!" for t in TEXTS], ACTUAL, ACTUAL)
    assert "different splits" in marks.versus_main(RUNS["s-0"], other, HEAD)


def test_trials_md_holds_the_marked_table(tmp_path: Path):
    study = make_study()
    found = marks.gather(study, read)
    written = results.write_reports(study, root=tmp_path, evidence=found)
    text = written[0].read_text()
    assert text.startswith("| trial ") and "| train.lr " in text and "| ≈ best " in text
    assert "| per seed " in text and "0.7" in text and "vs main:" in text
