"""`fullcycle plan`: time this machine on the project's own data, then estimate `train`, a tune
study and `dvc repro` against the plan (conf/plan/: goal and budget) and the gate (conf/promote/).

Reads params.yaml (or conf/ with this run's overrides) and data/processed (or the configured source,
split in memory); writes nothing. Progress goes to stderr, the plan to stdout.
"""

from __future__ import annotations

import time

_IMPORTS_STARTED = time.perf_counter()

import argparse  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import lightning as L  # noqa: E402
import torch  # noqa: E402
from omegaconf import DictConfig, OmegaConf  # noqa: E402

from fullcycle.core import classifier, params  # noqa: E402
from fullcycle.core.datamodule import POOL_BATCHES  # noqa: E402
from fullcycle.core.logs import quiet  # noqa: E402
from fullcycle.plan import estimate, measure, pipeline, report, settings, texts  # noqa: E402
from fullcycle.plan.measure import say  # noqa: E402
from fullcycle.train import stage as train_stage  # noqa: E402
from fullcycle.train import timing  # noqa: E402

# a stage's process imports the same libraries (0 when they were loaded before this module)
IMPORT_S = time.perf_counter() - _IMPORTS_STARTED
SECTIONS = ("seed", "data", "model", "trainer", "train", "promote", "plan", "explain")


@dataclass(frozen=True)
class Timings:
    train: measure.TrainTiming
    infer: measure.Timed
    load_s: float  # building the model
    params_m: float  # its weights, in millions


def epoch_of(cfg: DictConfig, split: texts.Split) -> list[list[int]]:
    tr = cfg.train
    bucket, window = bool(tr.bucket_by_length), str(tr.window)
    return measure.epoch_batches(split.encoded, int(tr.batch_size), bucket, int(cfg.seed), window)


def time_machine(cfg: DictConfig, data: texts.Texts, pad: int) -> Timings:
    """Build the model as `fullcycle train` does, time training steps on batches drawn as
    training draws them, then prediction batches of the test split."""
    m, seed = cfg.plan.measure, int(cfg.seed)
    L.seed_everything(seed, verbose=False)
    begun = time.perf_counter()
    module = train_stage.build_module(cfg.model, cfg.train, cfg.trainer, data.labels, seed)
    load_s = time.perf_counter() - begun
    train = data.splits["train"].encoded
    epoch = epoch_of(cfg, data.splits["train"])
    sizes = [measure.padded(train.lengths, b) for b in epoch]
    chosen = [epoch[i] for i in measure.pick(sizes, int(m.steps), int(m.warmup_steps))]
    say(
        f"timing {len(chosen)} training steps of up to {cfg.train.batch_size} texts "
        f"(the first {m.warmup_steps} not counted) ..."
    )
    steps = measure.train_steps(module, train, chosen, cfg, int(m.warmup_steps), pad)
    say(f"timing {m.inference_batches} prediction batches of {estimate.INFER_BATCH} windows ...")
    test = data.splits["test"].windows
    infer = measure.inference(
        module.model, test, estimate.INFER_BATCH, int(m.inference_batches), pad
    )
    params_m = sum(p.numel() for p in module.model.parameters()) / 1e6
    return Timings(steps, infer, load_s, params_m)


def batch_tokens(split: texts.Split, batch_size: int, pad: int) -> list[int]:
    """Padded tokens of each prediction batch of a split's (sampled) windows."""
    return [ids.size for _, ids, _ in split.windows.batches(batch_size, pad)]


def train_estimate(
    cfg: DictConfig, data: texts.Texts, t: Timings, pad: int
) -> tuple[estimate.Train, bool]:
    """One `fullcycle train`, and whether its epoch count is a bound the params set. Lightning's
    limit_train_batches, limit_val_batches and max_steps in the trainer params are heeded."""
    tr, trainer = cfg.train, OmegaConf.to_container(cfg.trainer)
    train, val = data.splits["train"], data.splits["val"]
    n_epochs, bounded = estimate.epochs(int(trainer.get("max_epochs", -1)), int(tr.patience))
    bucket = bool(tr.bucket_by_length)
    in_epoch = estimate.steps_in_epoch(train.rows, int(tr.batch_size), bucket, POOL_BATCHES)
    steps = max(1, estimate.limited(in_epoch, trainer.get("limit_train_batches")))
    if int(trainer.get("max_steps", -1)) > 0:
        n_epochs, bounded = min(n_epochs, math.ceil(trainer["max_steps"] / steps)), True
    epoch = epoch_of(cfg, train)
    sizes = [measure.padded(train.encoded.lengths, b) for b in epoch]
    val_sizes = batch_tokens(val, int(tr.batch_size), pad)
    val_share = estimate.limited(len(val_sizes), trainer.get("limit_val_batches")) / len(val_sizes)
    sanity = int(trainer.get("num_sanity_val_steps", 2))
    predict_val = t.infer.seconds_for(batch_tokens(val, estimate.INFER_BATCH, pad)) * val.scale
    return estimate.Train(
        epochs=n_epochs,
        steps_per_epoch=steps,
        setup_s=t.load_s + data.tokenize_s + t.train.startup_s,
        epoch_steps_s=t.train.steps.seconds_for(sizes) * steps / max(1, len(epoch)),
        val_s=t.infer.seconds_for(val_sizes) * val.scale * val_share,
        sanity_s=t.infer.seconds_for(val_sizes if sanity < 0 else val_sizes[:sanity]),
        checkpoint_s=t.train.checkpoint_s,
        save_s=t.load_s + predict_val + t.train.checkpoint_s / 4,  # the weights, once
    ), bounded


def work_of(data: texts.Texts, t: Timings, pad: int) -> estimate.Work:
    """What the stages after train read, and this machine's speed at it."""
    splits = data.splits
    predict = {
        name: t.infer.seconds_for(batch_tokens(s, estimate.INFER_BATCH, pad)) * s.scale
        for name, s in splits.items()
    }
    test = splits["test"].encoded
    first = [test.lengths[test.first[i]] for i in range(test.texts)] or [0]
    return estimate.Work(
        rows={name: s.rows for name, s in splits.items()},
        predict_s=predict,
        token_step_s=t.train.steps.line()[1],
        load_s=t.load_s,
        start_s=IMPORT_S,
        read_s=data.read_s if data.from_source else None,
        params_m=t.params_m,
        explain_tokens=sum(first) / len(first),
    )


def last_train(cfg: DictConfig) -> tuple[dict[str, Any] | None, bool | None]:
    """The last recorded train, and whether it had the run key this params, data and code give
    (None when the data is not prepared: there is no DVC hash to key on)."""
    last = timing.read()
    processed = Path(cfg.data.processed_dir)
    if last is None or not processed.is_dir():
        return last, None
    from fullcycle.core.provenance import dvc_md5
    from fullcycle.train import checkpoints

    return last, last.get("key") == checkpoints.run_key(cfg, dvc_md5(processed))


def machine_text(cfg: DictConfig, gpu: str | None, load: float | None) -> str:
    """The device the timings hold for, and a word when other jobs share its cores (`load`: the
    load average before plan started; the wall times then include the others' share)."""
    trainer, cores = cfg.trainer, os.cpu_count() or 1
    text = f"{gpu or 'CPU ' + measure.cpu_name()}, {cores} cores, {torch.get_num_threads()} torch"
    text += f" threads; trainer {trainer.accelerator}, precision {trainer.precision}"
    if load is None:
        return text
    if load > cores / 2:
        return text + f"; busy (load {load:g}): the timings include other jobs' share of the cores"
    return text + f"; load {load:g}"


def head(
    cfg: DictConfig, data: texts.Texts, gpu: str | None, load: float | None
) -> list[tuple[str, str]]:
    """The plan's first lines: model, data, goal, gate, machine."""
    rows = ", ".join(f"{name} {s.rows:,}" for name, s in data.splits.items())
    model, goal = cfg.model, cfg.plan.goal
    return [
        ("model", f"{model.name_or_path} (max_length {model.max_length}, windows {model.windows})"),
        ("data", f"{data.source}: {rows} texts, {len(data.labels)} labels"),
        (
            "goal",
            f"{goal.metric} >= {goal.target:g} (conf/plan/default.yaml); "
            + settings.goal_status(goal),
        ),
        ("gate", settings.gate_text(cfg.promote)),
        ("machine", machine_text(cfg, gpu, load)),
    ]


def run(cfg: DictConfig) -> report.Plan:
    """Measure, estimate and compare: everything the report prints."""
    load = timing.load_average()  # before this process adds its own
    for name in SECTIONS:
        params.section(cfg, name)
    stages = pipeline.graph()
    tune = settings.tune_settings(cfg.plan.budget)
    say("reading the data and cutting it into windows ...")
    tokenizer = classifier.load_tokenizer(cfg.model.name_or_path)
    pad = tokenizer.pad_token_id or 0
    data = texts.load(cfg, tokenizer, int(cfg.plan.measure.sample_texts), int(cfg.seed))
    say(f"building {cfg.model.name_or_path} as train does ...")
    timings = time_machine(cfg, data, pad)
    train, bounded = train_estimate(cfg, data, timings, pad)
    work = work_of(data, timings, pad)
    conf = {"explain": cfg.explain, "labels": data.labels, "plan": cfg.plan}
    parts = estimate.stage_parts(train, work, conf)
    trial = pipeline.trial_stages(stages, list(tune.targets))
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    budget = cfg.plan.budget
    advice = report.gpu_advice(
        train.total_s,
        float(budget.train_minutes),
        bool(budget.gpu),
        gpu,
        str(cfg.trainer.accelerator),
    )
    last, same = last_train(cfg)
    return report.Plan(
        head=head(cfg, data, gpu, load),
        step=timings.train.steps,
        infer=timings.infer,
        warmup=int(cfg.plan.measure.warmup_steps),
        batch_size=int(cfg.train.batch_size),
        train=train,
        bounded=bounded,
        repro=estimate.repro(parts, work, list(stages)),
        tune=tune,
        trial=trial,
        tune_s=estimate.tune(parts, work, trial, tune.trials, tune.seeds),
        advice=advice,
        cpu_per_wall=timings.train.cpu_per_wall,
        last=last,
        same_run=same,
        unknown=[s for s in stages if s not in parts],
    )


def cli_plan(args: argparse.Namespace) -> int:
    quiet()
    print(report.render(run(params.load())))
    return 0
