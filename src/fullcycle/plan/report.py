"""What `fullcycle plan` prints: the goal and the gate, what was timed, the estimates, the advice on
the gpu profile, and the last recorded train against its estimate."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fullcycle.plan.estimate import Part, Train
from fullcycle.plan.measure import Timed
from fullcycle.plan.settings import TuneSettings
from fullcycle.train.timing import LAST_TRAIN


@dataclass(frozen=True)
class Plan:
    """Everything the report says (planner.run builds it)."""

    head: list[tuple[str, str]]  # (label, text) lines: model, data, goal, gate, machine
    step: Timed
    infer: Timed
    warmup: int
    batch_size: int
    train: Train
    bounded: bool  # the epochs are max_epochs (else a guess: max_epochs -1)
    repro: list[Part]
    tune: TuneSettings
    trial: list[str]
    tune_s: float
    advice: str
    cpu_per_wall: float = 1.0  # CPU seconds per wall second while the steps were timed
    last: dict[str, Any] | None = None
    same_run: bool | None = None  # the last train had this key (None: cannot tell)
    unknown: list[str] = field(default_factory=list)  # stages of dvc.yaml not estimated


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def gpu_advice(
    train_s: float, minutes: float, allowed: bool, gpu: str | None, accelerator: str
) -> str:
    """Whether the gpu trainer profile is advised: only when train would go over the budget."""
    budget = f"the budget of {minutes:g} min (plan.budget.train_minutes)"
    if accelerator != "cpu":
        return f"the trainer already uses accelerator {accelerator}: train is estimated at {duration(train_s)}"
    if train_s <= minutes * 60:
        return f"not advised: train ({duration(train_s)}) fits {budget} on this machine"
    where = f"this machine has one ({gpu})" if gpu else "this machine has none: train where one is"
    if allowed:
        return (
            f"advised: train ({duration(train_s)}) is over {budget}; use -S trainer=gpu ({where})"
        )
    return (
        f"train ({duration(train_s)}) is over {budget} and plan.budget.gpu is false: shorten it "
        "(trainer.max_epochs, model.max_length, model.peft=lora) or raise the budget"
    )


def measured_line(p: Plan) -> str:
    a, b = p.step.line()
    step = a + b * p.step.mean_tokens
    per_window = p.infer.seconds_for(p.infer.tokens) / max(1, sum(p.infer.tokens)) * 1000
    return (
        f"a training step of {p.batch_size} texts {step:.2f} s at {p.step.mean_tokens:,.0f} padded "
        f"tokens ({len(p.step.seconds)} steps after {p.warmup} warmup); prediction "
        f"{per_window * 100:.1f} ms per 100 tokens ({len(p.infer.seconds)} batches of 32 windows)"
    )


def train_line(t: Train, bounded: bool) -> str:
    epochs = f"{t.epochs} epoch(s)" if bounded else f"at least {t.epochs} epochs (max_epochs -1)"
    return (
        f"{epochs} x {t.steps_per_epoch} steps: steps {duration(t.epoch_steps_s)} and validation "
        f"{duration(t.val_s)} an epoch, checkpoints {duration(t.checkpoint_s)}; setup "
        f"{duration(t.setup_s)}, saving {duration(t.save_s)}"
    )


def last_train_lines(
    last: dict[str, Any] | None, same: bool | None, t: Train, cpu_per_wall: float = 1.0
) -> list[str]:
    """The last recorded train against this estimate (estimate / measured): its wall time, and
    its CPU time, which other jobs on the machine do not stretch."""
    if last is None:
        return [f"last train: none recorded in {LAST_TRAIN} yet (`fullcycle train` records it)"]
    which = {True: "same params, data and code", False: "OTHER params, data or code than now"}
    status = which.get(same, "not comparable: data not prepared")  # type: ignore[arg-type]
    lines = [f"last train ({LAST_TRAIN}, {last.get('finished', '?')}, {status})"]
    load = last.get("load_average") or {}
    total = float(last["total_s"])
    lines.append(
        f"  wall: measured {duration(total)} (fit {duration(float(last['fit_s']))}, "
        f"{last.get('epochs')} epochs, {last.get('steps')} steps; load {load.get('start')} -> "
        f"{load.get('end')}) vs estimated {duration(t.total_s)} (fit {duration(t.fit_s)}): "
        f"ratio {t.total_s / total if total else float('nan'):.2f} (estimate / measured)"
    )
    if last.get("cpu_s"):
        cpu, estimated = float(last["cpu_s"]), t.total_s * cpu_per_wall
        lines.append(
            f"  CPU:  measured {duration(cpu)} vs estimated {duration(estimated)}: ratio "
            f"{estimated / cpu:.2f} (not stretched by other jobs on the machine)"
        )
    if last.get("resumed_at_epoch") is not None:
        lines.append(
            f"  (it resumed at epoch {last['resumed_at_epoch']}: it measured only the rest)"
        )
    return lines


def render(p: Plan) -> str:
    lines = [f"  {label:<9} {text}" for label, text in p.head]
    lines.append(f"  {'measured':<9} {measured_line(p)}")
    lines += [
        "",
        "estimates on this machine (~: rough, from constants measured on the default project)",
    ]
    lines.append(
        f"  {'train':<11} {duration(p.train.total_s):>8}   {train_line(p.train, p.bounded)}"
    )
    each = ", ".join(p.trial) or "nothing"
    lines.append(
        f"  {'tune':<11} {duration(p.tune_s):>8}   {p.tune.path}: {p.tune.trials} trials x "
        f"{p.tune.seeds} seed(s), each {each} (+ experiment bookkeeping); pruning only shortens it"
    )
    stages = ", ".join(f"{s.name} {'~' if s.rough else ''}{duration(s.seconds)}" for s in p.repro)
    total = sum(s.seconds for s in p.repro)
    lines.append(f"  {'dvc repro':<11} {duration(total):>8}   {stages}")
    if p.unknown:
        lines.append(f"  {'':<11} {'':>8}   not estimated: {', '.join(p.unknown)}")
    lines.append(f"  {'gpu':<11} {p.advice}")
    return "\n".join(
        ["", *lines, "", *last_train_lines(p.last, p.same_run, p.train, p.cpu_per_wall)]
    )
