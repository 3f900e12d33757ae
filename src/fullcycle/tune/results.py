"""What a person reads after a study: the trials best-first, the command that promotes the winner,
and Optuna's optimisation-history and parameter-importance plots under reports/tune/<study>/."""

from __future__ import annotations

import warnings
from pathlib import Path

import optuna
from optuna.trial import FrozenTrial, TrialState

from fullcycle.io import write_text
from fullcycle.tune import study as studies

REPORT_DIR = Path("reports/tune")
ORDER = {TrialState.COMPLETE: 0, TrialState.PRUNED: 1, TrialState.RUNNING: 2, TrialState.FAIL: 3}


def _score(trial: FrozenTrial) -> float | None:
    if trial.value is not None:
        return trial.value
    values = trial.intermediate_values
    return values[max(values)] if values else None


def ranked(study: optuna.Study) -> list[FrozenTrial]:
    """Finished first and best first; pruned by their last reported value; failures last."""
    trials = [t for t in study.get_trials(deepcopy=False) if t.state in ORDER]
    return sorted(trials, key=lambda t: (ORDER[t.state], -(_score(t) or 0.0), t.number))


def _duration(trial: FrozenTrial) -> str:
    if trial.datetime_start is None or trial.datetime_complete is None:
        return "-"
    seconds = (trial.datetime_complete - trial.datetime_start).total_seconds()
    return f"{seconds:.0f}s" if seconds < 120 else f"{seconds / 60:.1f}m"


def _state(trial: FrozenTrial) -> str:
    if trial.state == TrialState.PRUNED and trial.intermediate_values:
        return f"pruned@{max(trial.intermediate_values)}"
    if trial.user_attrs.get(studies.INTERRUPTED):
        return "interrupted"
    return trial.state.name.lower()


def table(study: optuna.Study) -> str:
    """A markdown table of the study's trials, best first."""
    trials = ranked(study)
    keys = sorted({k for t in trials for k in t.params})
    head = ["#", "experiment", "state", "val macro-F1", *keys, "duration"]
    rows = [head, ["---"] * len(head)]
    for t in trials:
        score = _score(t)
        rows.append(
            [
                str(t.number),
                str(t.user_attrs.get(studies.EXPERIMENT, "-")),
                _state(t),
                "-" if score is None else f"{score:.4f}",
                *(
                    f"{t.params[k]:.3g}"
                    if isinstance(t.params.get(k), float)
                    else str(t.params.get(k, "-"))
                    for k in keys
                ),
                _duration(t),
            ]
        )
    return "\n".join("| " + " | ".join(r) + " |" for r in rows)


def best(study: optuna.Study) -> FrozenTrial | None:
    done = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
    return max(done, key=lambda t: t.value or 0.0) if done else None


def summary(study: optuna.Study) -> str:
    """The table, the failures' reasons, and the winner with the command that promotes it."""
    lines = [
        f"study '{study.study_name}': {studies.finished(study)} finished trial(s)",
        "",
        table(study),
    ]
    failed = [
        t
        for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,))
        if t.user_attrs.get(studies.ERROR)
    ]
    if failed:
        lines += ["", "failures:"]
        lines += [f"  trial {t.number}: {t.user_attrs[studies.ERROR]}" for t in failed]
    winner = best(study)
    if winner is None:
        lines += ["", "no trial has finished yet."]
    else:
        name = winner.user_attrs.get(studies.EXPERIMENT, f"{study.study_name}-{winner.number}")
        lines += [
            "",
            f"best: trial {winner.number} = experiment {name}, validation macro-F1 "
            f"{winner.value:.4f} (the study never looks at the test split)",
            f"compare its test metrics with `fullcycle exp best`; promote it with: "
            f"fullcycle promote {name}",
        ]
    return "\n".join(lines)


def write_reports(study: optuna.Study, root: Path = REPORT_DIR) -> list[Path]:
    """trials.md plus Optuna's plots as HTML (plotly.js written once, beside them, for offline
    viewing). Importance needs two finished trials with differing parameters."""
    out = root / study.study_name
    written = [out / "trials.md"]
    write_text(written[0], table(study) + "\n")
    complete = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
    plots = [("history.html", optuna.visualization.plot_optimization_history)]
    if len(complete) >= 2 and len({tuple(sorted(t.params.items())) for t in complete}) >= 2:
        plots.append(("importance.html", optuna.visualization.plot_param_importances))
    for name, plot in plots:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                figure = plot(study)
        except (ValueError, RuntimeError):  # e.g. no variation to attribute importance to
            continue
        figure.write_html(str(out / name), include_plotlyjs="directory")
        written.append(out / name)
    return written
