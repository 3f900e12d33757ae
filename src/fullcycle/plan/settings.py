"""What the plan reads besides the timings: the tune space it estimates a study for (conf/tune/),
the promotion gate a candidate is judged by (conf/promote/, echoed, not copied), where the goal
stands (the last evaluate's metrics) and the last recorded train."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig

from fullcycle.core import paths
from fullcycle.core.errors import FullcycleError
from fullcycle.core.schema_check import check_group
from fullcycle.core.schema_release import Tune

TUNE_DIR = Path("conf/tune")


@dataclass(frozen=True)
class TuneSettings:
    path: Path
    trials: int
    seeds: int
    targets: tuple[str, ...]


def tune_settings(budget: DictConfig) -> TuneSettings:
    """conf/tune/<plan.budget.tune_space>.yaml, checked as `fullcycle tune` checks it; the trials
    are plan.budget.tune_trials when set."""
    path = TUNE_DIR / f"{budget.tune_space}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in TUNE_DIR.glob("*.yaml"))) or "none"
        raise FullcycleError(
            f"plan.budget.tune_space is '{budget.tune_space}' but {path} does not exist (spaces in "
            f"{TUNE_DIR}/: {known}): set it in conf/plan/default.yaml."
        )
    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise FullcycleError(f"{path} is not valid YAML: {exc}") from None
    tune = check_group(Tune, values, str(path))
    trials = int(budget.tune_trials) if budget.tune_trials is not None else tune.trials
    return TuneSettings(path, trials, tune.seeds, tuple(tune.targets))


def gate_text(promote: DictConfig) -> str:
    """The promotion gate in words, as conf/promote/ sets it."""
    margin = float(promote.margin)
    if promote.rule == "superior":
        rule = "better than main beyond noise" + (f" by more than {margin:g}" if margin else "")
    else:
        rule = f"not worse than main by {margin:g} or more, beyond noise"
    return (
        f"{promote.metric} {rule}, at {float(promote.confidence):.0%} confidence "
        f"(conf/promote/default.yaml: rule {promote.rule}, margin {margin:g})"
    )


def goal_status(goal: DictConfig, metrics_path: str | Path = paths.EVAL_METRICS) -> str:
    """Where the goal stands by the last evaluate (reports/eval/metrics.json), in words."""
    try:
        metrics = json.loads(Path(metrics_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"no {metrics_path} yet"
    split, key = str(goal.metric).split(".")
    value: Any = (metrics.get(split) or {}).get(key)
    if not isinstance(value, int | float):
        return f"{metrics_path} has no {goal.metric}"
    ci = (metrics.get(split) or {}).get(f"{key}_ci")
    interval = f" [{ci[0]:.4f}, {ci[1]:.4f}]" if isinstance(ci, list) and len(ci) == 2 else ""
    target = float(goal.target)
    verdict = "met" if value >= target else "not met"
    if interval and ci[0] < target <= value:
        verdict += f" (the interval's low end {ci[0]:.4f} is below it)"
    return f"last evaluate {value:.4f}{interval}: {verdict}"
