"""`fullcycle train`: fine-tune model.name_or_path on data/processed, write models/classifier/.

Reads the seed, data, model, trainer and train sections of params.yaml (checked against the schema
when params.yaml is loaded: fullcycle/core/schema.py). Training curves go to
dvclive/ (a stage output); the epoch train.keep names (best by validation macro-F1, or the last)
is what gets saved. An interrupted run leaves checkpoints behind and the next run resumes from the
last finished epoch (checkpoints.py).
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.utilities import rank_zero_only
from omegaconf import DictConfig, OmegaConf

from fullcycle.core import classifier, evidence, params
from fullcycle.core.datamodule import TextDataModule
from fullcycle.core.finetune import MONITOR, TextClassifier
from fullcycle.core.io import atomic_path
from fullcycle.core.logs import quiet
from fullcycle.core.provenance import dvc_md5
from fullcycle.train import checkpoints, lora, pruning, timing
from fullcycle.train.trainer import LIVE_DIR, ResumeHint, build_trainer, fit

log = logging.getLogger(__name__)

MODEL_DIR = classifier.DEFAULT_DIR
# the saved epoch's label for every validation text: `fullcycle tune` compares trials with it
VAL_PREDICTIONS = LIVE_DIR / "val_predictions.json"

# Texts are tokenized up front: loader worker processes would only add start-up time.
warnings.filterwarnings("ignore", message=".*does not have many workers.*")
# lightning 2.6 calls an API that torch 2.13 deprecates; nothing for a user to act on
warnings.filterwarnings("ignore", message=".*isinstance\\(treespec, LeafSpec\\)")


def best_weights(module: TextClassifier, checkpoint: ModelCheckpoint) -> None:
    """Load the best epoch's weights (by validation macro-F1) into `module`."""
    if checkpoint.best_model_path:  # empty when validation never ran (e.g. limit_val_batches=0)
        state = torch.load(checkpoint.best_model_path, map_location="cpu", weights_only=False)
        module.load_state_dict(state["state_dict"])


def provenance(cfg: DictConfig, data: TextDataModule, data_hash: str) -> dict[str, Any]:
    """What a model came from, stored in its fullcycle.json: only what the stage's inputs
    determine (params, DVC's hash of the processed data), so the same inputs give the same bytes.
    The git commit is stamped when the model is packaged or released (fullcycle.serve.model)."""
    sections = {k: OmegaConf.to_container(cfg[k]) for k in ("model", "train", "trainer")}
    return {
        "base_model": cfg.model.name_or_path,
        "params": sections | {"seed": int(params.section(cfg, "seed"))},
        "data": {
            "processed_dir": str(data.processed_dir),
            "md5": data_hash,  # DVC's hash, as dvc.lock records data/processed
            "rows": {name: len(split) for name, split in data.splits.items()},
        },
    }


def run(cfg: DictConfig, callbacks: Sequence[L.Callback] = ()) -> dict[str, Any]:
    """Train, save models/classifier/, return a summary. `callbacks` are added to the Trainer's."""
    clock = timing.Stopwatch()  # how long it took goes to .fullcycle/plan/, not to the outputs
    seed = int(params.section(cfg, "seed"))
    data_cfg, model_cfg = params.section(cfg, "data"), params.section(cfg, "model")
    train_cfg, trainer_cfg = params.section(cfg, "train"), params.section(cfg, "trainer")
    L.seed_everything(seed, workers=True, verbose=False)

    tokenizer = classifier.load_tokenizer(model_cfg.name_or_path)
    data = build_datamodule(data_cfg, model_cfg, train_cfg, tokenizer, seed)
    module = build_module(model_cfg, train_cfg, trainer_cfg, data.labels, seed)

    data_hash = dvc_md5(data_cfg.processed_dir)
    ckpt_dir = checkpoints.run_dir(cfg, data_hash)
    resume = checkpoints.resume(ckpt_dir, LIVE_DIR)  # None unless a run like this was interrupted
    if resume:
        print(f"train: resuming an interrupted run at epoch {resume.epoch} from {resume.path}")
    if rank_zero_only.rank == 0:
        print(lora.describe(module.model, model_cfg))
    hint = ResumeHint(ckpt_dir)
    callbacks = [
        *callbacks,
        *pruning.from_env(),
        hint,
    ]  # a `fullcycle tune` trial reports each epoch
    trainer = build_trainer(trainer_cfg, train_cfg, ckpt_dir, bool(resume), callbacks)
    fit_started = time.perf_counter()
    fit(trainer, module, data, resume, hint)
    fit_s = time.perf_counter() - fit_started

    summary = {
        "val_f1_macro": kept_score(trainer, module, train_cfg.keep),
        "epochs": trainer.current_epoch,
        "resumed_at_epoch": resume.epoch if resume else None,
    }
    if trainer.is_global_zero:
        save(cfg, trainer, module, data, tokenizer, data_hash, summary)
        timing.record(clock, fit_s, ckpt_dir.name, summary, trainer.global_step)
    return summary


def build_datamodule(
    data_cfg: DictConfig,
    model_cfg: DictConfig,
    train_cfg: DictConfig,
    tokenizer: Any,
    seed: int,
) -> TextDataModule:
    """The batches of windows of data/processed, as the data, model and train params say."""
    return TextDataModule(
        data_cfg.processed_dir,
        tokenizer,
        model_cfg.max_length,
        train_cfg.batch_size,
        train_cfg.bucket_by_length,
        seed,
        n_windows=int(model_cfg.windows),
        window=str(train_cfg.window),
    )


def build_module(
    model_cfg: DictConfig,
    train_cfg: DictConfig,
    trainer_cfg: DictConfig,
    labels: Sequence[str],
    seed: int,
) -> TextClassifier:
    """The model to fine-tune (LoRA-wrapped when model params ask for it) in its LightningModule."""
    mixed = "mixed" in str(trainer_cfg.precision)
    model = lora.wrap(classifier.build_model(model_cfg, labels), model_cfg)
    return TextClassifier(
        model,
        labels,
        float(train_cfg.lr),
        float(train_cfg.weight_decay),
        float(train_cfg.warmup_ratio),
        seed,
        fused_adamw=not mixed,
        label_smoothing=float(train_cfg.label_smoothing),
        head_lr=None if train_cfg.head_lr is None else float(train_cfg.head_lr),
        layer_decay=float(train_cfg.layer_decay or 1.0),  # null: every layer at lr
    )


def kept_score(trainer: L.Trainer, module: TextClassifier, keep: str) -> float | None:
    """The validation macro-F1 of the epoch train.keep names; for "best", load that epoch's
    weights into `module`."""
    best = next(cb for cb in trainer.checkpoint_callbacks if cb.monitor == MONITOR)
    if keep == "best":
        best_weights(module, best)
        score = best.best_model_score
    else:  # last: the weights the schedule ended on (training stops early on no progress)
        score = trainer.callback_metrics.get(MONITOR)
    return None if score is None else float(score)


def save(
    cfg: DictConfig,
    trainer: L.Trainer,
    module: TextClassifier,
    data: TextDataModule,
    tokenizer: Any,
    data_hash: str,
    summary: dict[str, Any],
) -> None:
    """Save models/classifier/ with its provenance, the validation predictions and the dvclive
    summary, then drop the checkpoints."""
    model_cfg = params.section(cfg, "model")
    # dvclive/metrics.json holds the last epoch's numbers; add the saved epoch's ("best":
    # the name `fullcycle tune` reads, whichever epoch train.keep saved)
    live = trainer.logger.experiment
    live.summary["best"] = {"val_f1_macro": summary["val_f1_macro"]}
    meta = provenance(cfg, data, data_hash) | {
        "val_f1_macro": summary["val_f1_macro"],
        "epochs": summary["epochs"],
    }
    with atomic_path(MODEL_DIR) as tmp:
        classifier.save(
            tmp,
            lora.merged(module.model),
            tokenizer,
            data.labels,
            model_cfg.max_length,
            int(model_cfg.windows),
            **meta,
        )
    write_val_predictions(params.section(cfg, "data").processed_dir, live.summary)
    live.make_summary()
    checkpoints.clean()


def write_val_predictions(processed_dir: str | Path, live_summary: dict[str, Any]) -> None:
    """The saved model's validation predictions (dvclive/val_predictions.json) and the interval
    of its validation metrics (dvclive/metrics.json: best.val_f1_macro_ci), from the saved model
    itself, so they are what was kept, not an epoch's running average."""
    from fullcycle.core.splits import read_split

    model = classifier.Classifier(MODEL_DIR)
    val = read_split(processed_dir, "val", model.labels, labels_from=f"{MODEL_DIR}'s labels")
    pred = classifier.split_predictions(model, val)
    VAL_PREDICTIONS.write_text(evidence.dumps({"val": pred}), encoding="utf-8")
    ci = evidence.interval(pred)
    live_summary["best"] |= {
        "val_f1_macro_ci": ci["f1_macro_ci"],
        "val_accuracy_ci": ci["accuracy_ci"],
    }


def cli_train() -> None:
    quiet()
    summary = run(params.load())
    score = summary["val_f1_macro"]
    if rank_zero_only.rank == 0:  # once, not once per DDP process
        print(
            f"train: {summary['epochs']} epoch(s), best val macro-F1 "
            f"{'n/a' if score is None else f'{score:.4f}'}; model saved to {MODEL_DIR}/"
        )
