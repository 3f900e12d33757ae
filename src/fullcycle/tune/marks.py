"""How sure each trial's value is, and which trials the validation texts cannot tell apart.

A study ranks trials on a few hundred validation texts, where two trials a point apart may be the
same model as far as those texts can tell. For each finished trial this reads the validation
predictions its experiments saved (dvclive/val_predictions.json; a multi-seed trial's seeds stacked
with `Predictions.seeds`, so its metric is their mean and the bootstrap resamples texts jointly)
and gives, with fullcycle.core.evidence:
- its 95% interval (the seeded bootstrap over the validation texts);
- its mark against the best trial (paired bootstrap on the same texts): "best", "≈ best" (not
  distinguishable from it) or "worse beyond noise";
- one sentence on the best trial against main's current params: the run of the commit the study
  ran from, as that commit's own dvclive/val_predictions.json recorded it.
Nothing is run: predictions are read from the experiments (`dvc.api.read`, rev = the experiment's
name, as trial.py reads metrics), so `fullcycle tune --show` gives the same marks later. A run from
before the train stage saved predictions has none: its interval and mark stay blank.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import optuna
from optuna.trial import FrozenTrial, TrialState

from fullcycle.core import evidence, paths
from fullcycle.core.errors import FullcycleError
from fullcycle.core.evidence import Predictions
from fullcycle.tune import study as studies

PREDICTIONS = paths.VAL_PREDICTIONS.as_posix()
METRIC = "f1_macro"  # the study's value: validation macro-F1 (conf/tune `metric`)
BEST, NEAR, OTHER = "best", "≈ best", "other texts"  # OTHER: scored on another validation split

# how a run's predictions are read: rev -> (the predictions, or None and why not in words)
Reader = Callable[[str], tuple[Predictions | None, str]]


def read_predictions(rev: str) -> tuple[Predictions | None, str]:
    """The validation predictions the run at `rev` (a commit or an experiment name) saved."""
    import dvc.api
    from dvc.exceptions import PathMissingError
    from dvc.scm import RevError

    try:
        text = dvc.api.read(PREDICTIONS, rev=rev)
    except (FileNotFoundError, PathMissingError):
        return None, (
            f"its run saved no {PREDICTIONS} (trained before the train stage saved them, "
            "or never trained)"
        )
    except RevError:
        return None, f"no commit or experiment '{rev}' in this repository"
    except Exception as exc:  # DvcException, dvc_data index errors: e.g. the output is not cached
        if "failed to load directory" in str(exc) or "cache" in str(exc).lower():
            return None, (
                f"its dvclive output is not in the local DVC cache, so {PREDICTIONS} cannot be "
                "read (`dvc pull` fetches it)"
            )
        return None, f"cannot read {PREDICTIONS} ({type(exc).__name__}: {exc})"
    try:
        pred = evidence.loads(text, f"{PREDICTIONS} of {rev}").get("val")
    except FullcycleError as exc:
        return None, str(exc)
    return (pred, "") if pred is not None else (None, f"{PREDICTIONS} has no 'val' set")


def trial_predictions(trial: FrozenTrial, read: Reader = read_predictions) -> Predictions | None:
    """A finished trial's validation predictions: every seed's experiment, as one set."""
    names = trial.user_attrs.get(studies.EXPERIMENTS) or [trial.user_attrs.get(studies.EXPERIMENT)]
    sets = []
    for name in names:
        pred = read(str(name))[0] if name else None
        if pred is None:
            return None
        sets.append(pred)
    try:
        return sets[0].seeds(*sets[1:])
    except FullcycleError:  # its seeds were scored on different validation splits
        return None


@dataclass
class Evidence:
    """What results.py shows beside the values (keys: trial numbers)."""

    intervals: dict[int, tuple[float, float]] = field(default_factory=dict)
    marks: dict[int, str] = field(default_factory=dict)
    rows: int | None = None  # validation texts
    main: str = ""  # the best trial against main's current params, in a sentence

    def near(self) -> list[int]:
        """The trials not distinguishable from the best."""
        return [n for n, mark in self.marks.items() if mark == NEAR]


def judge(preds: dict[int, Predictions | None], best: int | None) -> Evidence:
    """Intervals for every trial with predictions, and each one's mark against trial `best`."""
    found = Evidence()
    for number, pred in preds.items():
        if pred is not None:
            low, high = evidence.interval(pred)[f"{METRIC}_ci"]
            found.intervals[number], found.rows = (low, high), pred.rows
    reference = preds.get(best) if best is not None else None
    if reference is None:
        return found
    for number, pred in preds.items():
        if pred is None:
            continue
        if number == best:
            found.marks[number] = BEST
            continue
        try:
            verdict = evidence.compare(reference, pred, what=f"trial {number} and the best")
        except FullcycleError:
            found.marks[number] = OTHER
            continue
        word = verdict[METRIC].verdict
        found.marks[number] = NEAR if word == evidence.SAME else word
    return found


def versus_main(
    best: Predictions | None, main: Predictions | None, commit: str | None, why: str = ""
) -> str:
    """One sentence: the best trial against main's current params (the run of `commit`)."""
    if not commit:
        return "vs main: not compared (the commit the study ran from is unknown)."
    where = f"main's current params (commit {commit[:8]})"
    if main is None:
        return f"vs main: {where} cannot be compared: {why}."
    if best is None:
        return f"vs main: the best trial has no validation predictions to compare with {where}."
    try:
        result = evidence.compare(main, best, what=f"the best trial and {where}")
    except FullcycleError as exc:
        return f"vs main: {exc}"
    if result.identical:
        return (
            f"vs main: the best trial predicts every validation text as {where} does: not "
            "distinguishable (nothing the search changed shows on these texts)."
        )
    d = result[METRIC]
    numbers = (
        f"validation macro-F1 {d.diff:+.4f} against main (95% interval {d.low:+.4f} to "
        f"{d.high:+.4f})"
    )
    if d.verdict == evidence.SAME:
        return (
            f"vs main: the best trial is NOT distinguishable from {where}: {numbers}; on "
            f"{result.rows} validation texts the search has not shown an improvement over main."
        )
    if d.verdict == evidence.BETTER:
        return (
            f"vs main: the best trial is better beyond noise than {where} on validation: "
            f"{numbers}; the test split judges it at promotion."
        )
    return f"vs main: the best trial is worse beyond noise than {where}: {numbers}."


def best(trials: Iterable[FrozenTrial]) -> FrozenTrial | None:
    """The complete trial with the highest value."""
    done = [t for t in trials if t.state == TrialState.COMPLETE]
    return max(done, key=lambda t: t.value or 0.0) if done else None


def gather(
    study: optuna.Study, read: Reader = read_predictions, head: str | None = None
) -> Evidence:
    """Intervals and marks for the study's complete trials, and the sentence on main: `head`
    (default: the commit the best trial ran from, else the current HEAD)."""
    from fullcycle.core.provenance import git_commit

    trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    winner = best(trials)
    if winner is None:
        return Evidence()
    preds = {t.number: trial_predictions(t, read) for t in trials}
    found = judge(preds, winner.number)
    commit = head or winner.user_attrs.get(studies.COMMIT) or git_commit()
    main, why = read(commit) if commit else (None, "")
    found.main = versus_main(preds[winner.number], main, commit, why)
    return found
