"""Which `fullcycle tune` trial a training run is, and the study's pruner: the tuner's side of
pruning (train/pruning.py is the training run's), light to import: Optuna only when used, never
Lightning or torch, so `fullcycle tune` checks its settings and starts trials without them.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any

from fullcycle.core.errors import FullcycleError

ENV = "FULLCYCLE_TUNE_TRIAL"
PRUNED_ATTR = "pruned_at_epoch"  # set on the trial by the process that stopped it
PRUNERS = ("median", "percentile", "threshold", "hyperband", "none")


@dataclass(frozen=True)
class TrialRef:
    """Which trial of which study a training run is."""

    storage: str
    study: str
    number: int
    pruner: dict[str, Any] = field(default_factory=dict)

    def to_env(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_env(cls) -> TrialRef | None:
        text = os.environ.get(ENV)
        if not text:
            return None
        try:
            return cls(**json.loads(text))
        except (ValueError, TypeError) as exc:
            raise FullcycleError(f"{ENV} is not a trial reference ({exc}).") from None


def build_pruner(spec: dict[str, Any]) -> Any:
    """An Optuna pruner from tune's `pruner:` {type: median | percentile | threshold | hyperband |
    none, startup_trials, warmup_epochs, percentile (percentile), lower (threshold)}."""
    import optuna

    kind = str(spec.get("type", "median")).lower()
    startup, warmup = int(spec.get("startup_trials", 2)), int(spec.get("warmup_epochs", 0))
    if kind == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=startup, n_warmup_steps=warmup)
    if kind == "percentile":
        return optuna.pruners.PercentilePruner(
            float(spec.get("percentile", 25.0)), n_startup_trials=startup, n_warmup_steps=warmup
        )
    if kind == "threshold":  # stop any trial whose val macro-F1 is below `lower`
        return optuna.pruners.ThresholdPruner(
            lower=float(spec.get("lower", 0.0)), n_warmup_steps=warmup
        )
    if kind == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=max(1, warmup))
    if kind == "none":
        return optuna.pruners.NopPruner()
    raise FullcycleError(f"tune.pruner.type = {kind!r}; use one of {', '.join(PRUNERS)}.")


def load_trial(ref: TrialRef) -> Any:
    """The live `optuna.Trial` the tuner asked for (it is RUNNING in the shared storage)."""
    import optuna

    study = optuna.load_study(
        study_name=ref.study, storage=ref.storage, pruner=build_pruner(ref.pruner)
    )
    trial_id = study._storage.get_trial_id_from_study_id_trial_number(study._study_id, ref.number)
    return optuna.trial.Trial(study, trial_id)
