"""The estimates: arithmetic on what `measure` timed and what the data holds (no torch here).

`train` is estimated from the timed steps and prediction batches alone. The stages after it are
bound by prediction (every window of a split through the model, timed too) plus costs that were
not timed here: those are marked rough. Their constants come from the default project (BBC,
MiniLM, each stage run by hand on a 2-core AMD EPYC: prepare 1.6 s, baseline 6.7 s, explain 118 s,
evaluate 47 s, optimize 127 s, package 94 s, monitor 168 s)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

INFER_BATCH = 32  # windows per prediction batch in every stage after train (Classifier's default)
# rough constants (seconds), measured on the default project
DVC_STAGE_S = 3.0  # DVC's own work per stage: hashing deps and outs, the lock file
TRIAL_OVERHEAD_S = 15.0  # a tune trial's experiment bookkeeping (bench/tune_overhead.py: < 15 s)
LIGHT_START_S = 1.0  # a stage that imports no torch starting (prepare, baseline)
LIGHT_STAGES = ("prepare", "baseline")
PREPARE_S_PER_ROW = 0.0003  # read, clean, validate, split, write (when not timed here)
BASELINE_S_PER_TRAIN_ROW = 0.004  # TF-IDF + logistic regression, and its test bootstrap
IG_PER_TRAIN_TOKEN = 0.57  # an attribution token-step costs this share of a training token
EXPORT_S_PER_M_PARAMS = 1.5  # ONNX export, graph fusion and int8 quantization, per million weights
INT8_SPEED = 2.0  # int8 ONNX Runtime predicts about this much faster than torch fp32 here
PACKAGE_S = 90.0  # bentoml build: the models copied into the bento, the archive written
MONITOR_REPORT_S = 60.0  # Evidently's checks (domain classifiers, embeddings) and its HTML report
CARD_S = 5.0  # evaluate's bootstrap intervals, paired comparisons and the card


@dataclass(frozen=True)
class Part:
    """One stage's (or one piece's) estimate."""

    name: str
    seconds: float
    detail: str
    rough: bool = False


@dataclass(frozen=True)
class Train:
    """One `fullcycle train`, from its start to the model saved."""

    epochs: int
    steps_per_epoch: int
    setup_s: float  # tokenizer, model, tokenizing train and val, the Trainer's start
    epoch_steps_s: float
    val_s: float  # one validation pass over every val window
    sanity_s: float  # Lightning's sanity check (a couple of val batches)
    checkpoint_s: float  # per epoch
    save_s: float  # the model, and the saved model's val predictions

    @property
    def fit_s(self) -> float:
        return self.sanity_s + self.epochs * (self.epoch_steps_s + self.val_s + self.checkpoint_s)

    @property
    def total_s(self) -> float:
        return self.setup_s + self.fit_s + self.save_s


@dataclass(frozen=True)
class Work:
    """What the stages after train read and how fast this machine reads it."""

    rows: Mapping[str, int]  # texts per split
    predict_s: Mapping[str, float]  # predicting every window of each split (torch, batch 32)
    token_step_s: float  # one token through a forward and backward pass (from the timed steps)
    load_s: float  # loading the model (each stage after train does)
    start_s: float  # a stage's process start: Python importing torch, transformers, Lightning
    read_s: float | None  # prepare's reading, validating and splitting (None: not timed here)
    params_m: float  # model weights, in millions
    explain_tokens: float  # tokens IG reads of a test text (its first window)


def epochs(max_epochs: int, patience: int) -> tuple[int, bool]:
    """Epochs to plan for and whether that is a bound the params set (max_epochs) rather than
    a guess (max_epochs -1 trains until early stopping: at least patience + 1 epochs)."""
    return (max_epochs, True) if max_epochs > 0 else (patience + 1, False)


def explain_part(work: Work, explain: Mapping, classes: int, target: float) -> Part:
    """Integrated gradients on the texts worth a look: misclassified (about 1 - target of the
    test split) and per_class most and least confident per class, within the token-step budget."""
    picks = classes * 2 * int(explain["per_class"]) + (1 - target) * work.rows["test"]
    wanted = picks * work.explain_tokens * int(explain["n_steps"])
    budget = explain["budget_token_steps"]
    token_steps = wanted if budget is None else min(wanted, float(budget))
    ig_s = token_steps * work.token_step_s * IG_PER_TRAIN_TOKEN
    seconds = work.load_s + work.predict_s["test"] + ig_s
    return Part("explain", seconds, f"{token_steps:,.0f} token-steps of attribution", rough=True)


def stage_parts(train: Train, work: Work, cfg: Mapping) -> dict[str, Part]:
    """Every stage of the default dvc.yaml, by name."""
    rows, predict = work.rows, work.predict_s
    total_rows = sum(rows.values())
    prepare = (
        Part("prepare", work.read_s, "reading the source, timed here")
        if work.read_s is not None
        else Part("prepare", total_rows * PREPARE_S_PER_ROW, f"{total_rows:,} rows", rough=True)
    )
    export_s = work.params_m * EXPORT_S_PER_M_PARAMS
    optimize_s = work.load_s + export_s + predict["test"] * (2 + 1 / INT8_SPEED)
    monitor_s = work.load_s + predict["train"] + predict["production"] + MONITOR_REPORT_S
    parts = [
        prepare,
        Part("baseline", rows["train"] * BASELINE_S_PER_TRAIN_ROW, "TF-IDF", rough=True),
        Part("train", train.total_s, f"{train.epochs} epoch(s) x {train.steps_per_epoch} steps"),
        explain_part(
            work, cfg["explain"], len(cfg["labels"]), float(cfg["plan"]["goal"]["target"])
        ),
        Part("evaluate", work.load_s + predict["test"] + CARD_S, "predicting the test split"),
        Part("optimize", optimize_s, "export, int8, 3 passes over test", rough=True),
        Part("package", PACKAGE_S, "bentoml build", rough=True),
        Part("monitor", monitor_s, "predicting train and production, Evidently", rough=True),
    ]
    return {p.name: p for p in parts}


def with_start(part: Part, work: Work) -> Part:
    """A stage as `dvc repro` runs it: its process start and DVC's own work added."""
    extra = (LIGHT_START_S if part.name in LIGHT_STAGES else work.start_s) + DVC_STAGE_S
    return Part(part.name, part.seconds + extra, part.detail, part.rough)


def repro(parts: Mapping[str, Part], work: Work, order: list[str]) -> list[Part]:
    """`dvc repro` from nothing: every stage of dvc.yaml, in its order (a stage this module does
    not know is left out of the sum and named by the report)."""
    return [with_start(parts[name], work) for name in order if name in parts]


def tune(parts: Mapping[str, Part], work: Work, trial: list[str], trials: int, seeds: int) -> float:
    """A study of `trials` trials of `seeds` runs each: the trial's stages plus its bookkeeping
    (pruning, which stops hopeless trials early, can only make it shorter)."""
    run = sum(with_start(parts[name], work).seconds for name in trial if name in parts)
    return trials * seeds * (run + TRIAL_OVERHEAD_S)


def steps_in_epoch(texts: int, batch_size: int, bucketed: bool, pool_batches: int) -> int:
    """Training batches an epoch has: one window per text, in pools of pool_batches batches when
    bucketing by length (each pool ends with a short batch)."""
    if not bucketed:
        return math.ceil(texts / batch_size)
    pool = batch_size * pool_batches
    full, rest = divmod(texts, pool)
    return full * pool_batches + math.ceil(rest / batch_size)


def limited(batches: int, limit: int | float | None) -> int:
    """Batches Lightning runs of `batches` under a limit_*_batches setting: a whole number is a
    count, a float a share (1.0: all of them)."""
    if limit is None or isinstance(limit, bool):
        return batches
    if isinstance(limit, int):
        return min(batches, limit)
    return int(batches * float(limit))
