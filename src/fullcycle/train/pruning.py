"""A `fullcycle tune` trial's side of pruning: report each epoch's validation macro-F1 to the study
and stop when Optuna's pruner says the trial will not win.

The tuner passes the trial's identity to the training process in one environment variable,
FULLCYCLE_TUNE_TRIAL (JSON: storage URL, study name, trial number, pruner), not in params.yaml:
which study a run belongs to must not change the stage's params, its cached outputs or its
checkpoint key. Without the variable (`dvc repro`, `fullcycle train`) nothing here runs.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any

import lightning as L

from fullcycle.core.errors import FullcycleError
from fullcycle.core.finetune import MONITOR

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


class TrialPruned(FullcycleError):
    """The study's pruner stopped this run: the tuner records it as pruned, not failed."""


class ReportToStudy(L.Callback):
    """After each validation: report val macro-F1 as the trial's intermediate value (step = the
    epoch) and stop the run if the pruner says so. Under DDP the first process decides and every
    process stops together."""

    def __init__(self, ref: TrialRef) -> None:
        self.ref = ref
        self.trial: Any = None

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if trainer.is_global_zero and self.trial is None:
            self.trial = load_trial(self.ref)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        epoch, prune = trainer.current_epoch, False
        score = trainer.callback_metrics.get(MONITOR)
        if trainer.is_global_zero and score is not None:
            self.trial.report(float(score), step=epoch)
            prune = self.trial.should_prune()
            if prune:
                self.trial.set_user_attr(PRUNED_ATTR, epoch)
        if trainer.strategy.broadcast(prune, src=0):
            raise TrialPruned(
                f"trial {self.ref.number} of study '{self.ref.study}' pruned after epoch {epoch} "
                f"(val macro-F1 {float(score or 0):.4f} is below what the pruner accepts)"
            )


def from_env() -> list[L.Callback]:
    """The callbacks a tune trial adds to the Trainer; none outside `fullcycle tune`."""
    ref = TrialRef.from_env()
    return [ReportToStudy(ref)] if ref else []
