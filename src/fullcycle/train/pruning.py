"""A `fullcycle tune` trial's side of pruning: report each epoch's validation macro-F1 to the study
and stop when Optuna's pruner says the trial will not win.

The tuner passes the trial's identity to the training process in one environment variable,
FULLCYCLE_TUNE_TRIAL (JSON: storage URL, study name, trial number, pruner), not in params.yaml:
which study a run belongs to must not change the stage's params, its cached outputs or its
checkpoint key. Without the variable (`dvc repro`, `fullcycle train`) nothing here runs.
"""

from __future__ import annotations

from typing import Any

import lightning as L

from fullcycle.core.errors import FullcycleError
from fullcycle.core.finetune import MONITOR
from fullcycle.train.trial_ref import PRUNED_ATTR, TrialRef, load_trial  # the tuner's side


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
