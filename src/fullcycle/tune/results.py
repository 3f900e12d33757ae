"""What a person reads after a study: the trials best-first with each value's 95% interval and
its mark against the best (marks.py: which trials the validation texts cannot tell apart), how the
best compares with main's current params, the command that promotes it, and Optuna's
optimisation-history and parameter-importance plots under reports/tune/<study>/."""

from __future__ import annotations

import textwrap
import warnings
from pathlib import Path

import optuna
from optuna.trial import FrozenTrial, TrialState

from fullcycle.core import paths
from fullcycle.core.io import write_text
from fullcycle.tune import marks
from fullcycle.tune import study as studies

WIDTH = 100  # the summary's sentences wrap here
REPORT_DIR = paths.TUNE_DIR
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


def _name(study: optuna.Study, trial: FrozenTrial) -> str:
    return str(trial.user_attrs.get(studies.EXPERIMENT, f"{study.study_name}-{trial.number}"))


def _param(value: object) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def cells(study: optuna.Study, found: marks.Evidence) -> tuple[list[str], list[list[str]]]:
    """The table's header and rows, best first: value, interval, mark (or the state of a trial
    that did not complete), params, each seed's value (multi-seed studies), duration."""
    trials = ranked(study)
    keys = sorted({k for t in trials for k in t.params})
    multi = any(len(t.user_attrs.get(studies.SEED_VALUES, ())) > 1 for t in trials)
    head = ["trial", "val macro-F1", "95% interval", "vs best", *keys]
    head += [*(["per seed"] if multi else []), "time"]
    rows = []
    for t in trials:
        score, ci = _score(t), found.intervals.get(t.number)
        seeds = " ".join(f"{v:.3f}" for v in t.user_attrs.get(studies.SEED_VALUES, ()))
        rows.append(
            [
                _name(study, t),
                "-" if score is None else f"{score:.4f}",
                f"{ci[0]:.3f}-{ci[1]:.3f}" if ci else "-",
                found.marks.get(t.number, "-") if t.state == TrialState.COMPLETE else _state(t),
                *(_param(t.params.get(k, "-")) for k in keys),
                *([seeds or "-"] if multi else []),
                _duration(t),
            ]
        )
    return head, rows


def markdown(head: list[str], rows: list[list[str]]) -> str:
    """A markdown table, its columns padded so that the file reads as a table too."""
    widths = [max(len(c) for c in column) for column in zip(head, *rows, strict=True)]
    lines = [head, ["-" * max(3, w) for w in widths], *rows]
    return "\n".join(
        "| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |"
        for line in lines
    )


def _short(keys: list[str]) -> dict[str, str]:
    """Param headers for the terminal: the key's last part where that is unambiguous."""
    last = [k.rsplit(".", 1)[-1] for k in keys]
    return {k: (s if last.count(s) == 1 else k) for k, s in zip(keys, last, strict=True)}


def text(head: list[str], rows: list[list[str]]) -> str:
    """The table for a terminal (~100 columns): aligned, short param names, each header wrapped
    to its column's width (the markdown table keeps the full keys)."""
    short = _short(head[4:])
    head = [short.get(h, h).replace("_", " ") for h in head]
    widths = [
        max([len(c) for c in column[1:]] + [max(len(w) for w in column[0].split())])
        for column in zip(head, *rows, strict=True)
    ]
    wrapped = [textwrap.wrap(h, w) or [""] for h, w in zip(head, widths, strict=True)]
    depth = max(len(w) for w in wrapped)
    wrapped = [[""] * (depth - len(w)) + w for w in wrapped]  # bottom-aligned
    lines = [[w[i] for w in wrapped] for i in range(depth)]
    lines += [["-" * w for w in widths], *rows]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines
    )


def table(study: optuna.Study, found: marks.Evidence | None = None) -> str:
    """A markdown table of the study's trials, best first."""
    return markdown(*cells(study, marks.gather(study) if found is None else found))


def best(study: optuna.Study) -> FrozenTrial | None:
    return marks.best(study.get_trials(deepcopy=False))


def legend(found: marks.Evidence) -> str:
    texts = f"the {found.rows} validation texts" if found.rows else "the validation texts"
    return textwrap.fill(
        "val macro-F1: the trial's validation macro-F1 (with seeds: the mean over them); 95% "
        f"interval: seeded bootstrap over {texts}; vs best: paired bootstrap against the best "
        "trial on the same texts (≈ best: not distinguishable from it; '-': the run saved no "
        "validation predictions).",
        WIDTH,
    )


def _winner(study: optuna.Study, winner: FrozenTrial, found: marks.Evidence) -> list[str]:
    """What the summary says about the best trial: its value, its equals, main, promotion."""
    name, ci = _name(study, winner), found.intervals.get(winner.number)
    names = winner.user_attrs.get(studies.EXPERIMENTS) or [name]
    lines = [
        f"best: trial {winner.number} = experiment {name}, validation macro-F1 {winner.value:.4f}"
        + (f" (95% interval {ci[0]:.3f}-{ci[1]:.3f})" if ci else ""),
        "  chosen on validation alone (the study never looks at the test split)",
    ]
    if len(names) > 1:
        lines.append(f"  the mean of {len(names)} seeds: {', '.join(names)}")
    near = [_name(study, t) for t in ranked(study) if t.number in found.near()]
    if near:
        lines += textwrap.wrap(
            f"not distinguishable from it on validation: {', '.join(near)} (the search cannot "
            "tell these apart from the best)",
            WIDTH,
        )
    if found.main:
        lines += textwrap.wrap(found.main, WIDTH)
    return [
        *lines,
        "compare its test metrics with `fullcycle exp best`; promote it with: "
        f"fullcycle promote {name}",
    ]


def summary(study: optuna.Study, found: marks.Evidence | None = None) -> str:
    """The table with intervals and marks, the failures' reasons, and the winner: how it compares
    with main's current params, and the command that promotes it."""
    found = marks.gather(study) if found is None else found
    seeds = study.user_attrs.get(studies.SEEDS, 1)
    lines = [
        f"study '{study.study_name}': {studies.finished(study)} finished trial(s)"
        + (f", {seeds} seeds a trial" if seeds > 1 else ""),
        "",
        text(*cells(study, found)),
        "",
        legend(found),
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
        lines += ["", *_winner(study, winner, found)]
    return "\n".join(lines)


def write_reports(
    study: optuna.Study, root: Path = REPORT_DIR, evidence: marks.Evidence | None = None
) -> list[Path]:
    """trials.md (the table, its legend, the best trial against main) plus Optuna's plots as HTML
    (plotly.js written once, beside them, for offline viewing). Importance needs two finished
    trials with differing parameters."""
    found = marks.gather(study) if evidence is None else evidence
    out = root / study.study_name
    written = [out / "trials.md"]
    body = [table(study, found), "", legend(found)] + (["", found.main] if found.main else [])
    write_text(written[0], "\n".join(body) + "\n")
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
