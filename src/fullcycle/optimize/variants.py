"""Building the serving variants of a trained model as ONNX files in a work folder.

- fp32: the trained model, exported and BERT-fused (the reference in ONNX Runtime, and the fallback)
- int8: fp32, dynamically quantised to int8
- pruned-int8: heads and feed-forward neurons pruned, re-fine-tuned (distilled) for a few steps,
  exported, fused, quantised (only with optimize.prune.enabled: the re-fine-tune costs minutes of
  CPU on MiniLM)
Shared by the optimize stage and `fullcycle optimize --bench` (which times them all).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import torch
from transformers import AutoModelForSequenceClassification, PreTrainedModel

from fullcycle.core import classifier
from fullcycle.core.errors import FullcycleError
from fullcycle.optimize import export, prune


@dataclass
class Built:
    """Each variant's ONNX file, or why it was not built; fused operator counts per file."""

    paths: dict[str, Path] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    fused: dict[str, dict[str, int]] = field(default_factory=dict)


def load_eager(model_dir: str | Path) -> PreTrainedModel:
    """The trained model with eager attention: the form ORT's BERT fusion recognises."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    model = AutoModelForSequenceClassification.from_pretrained(
        model_dir, dtype=torch.float32, attn_implementation="eager"
    )
    if getattr(model.base_model, "encoder", None) is None:
        raise FullcycleError(f"{model_dir}: only BERT-like encoders can be optimised here.")
    return model.eval()


def _fused_onnx(
    model: PreTrainedModel, work: Path, name: str, opset: int
) -> tuple[Path, dict[str, int]]:
    """Export and fuse; the attention shape comes from the model (ORT's guess fails on small
    or pruned models)."""
    attention = model.base_model.encoder.layer[0].attention.self
    heads, hidden = attention.num_attention_heads, attention.all_head_size
    raw = export.export(model, work / f"{name}.raw.onnx", opset)
    fused = work / f"{name}.onnx"
    stats = export.fuse(raw, fused, num_heads=heads, hidden_size=hidden)
    raw.unlink()
    return fused, stats


class Pruning(NamedTuple):
    """optimize.prune's shares: heads and feed-forward neurons removed, distillation (and its
    temperature)."""

    heads: float
    ffn: float
    distill: float
    temperature: float


def pruning(prune_cfg: Any) -> Pruning:
    """optimize.prune's heads_fraction, ffn_fraction, distill and temperature (the one place that
    reads them; their ranges were checked when params.yaml was loaded: core/schema_release.py)."""
    return Pruning(
        float(prune_cfg.heads_fraction),
        float(prune_cfg.ffn_fraction),
        float(prune_cfg.distill),
        float(prune_cfg.temperature),
    )


def build(
    model_dir: str | Path,
    names: list[str],
    opt: Any,
    work: Path,
    processed_dir: str | Path,
    seed: int,
) -> Built:
    """The fp32 variant always, and every other variant in `names` (see the module docstring)."""
    built = Built()
    meta = classifier.read_meta(model_dir)
    model = load_eager(model_dir)
    opset = int(opt.opset)
    built.paths["fp32"], built.fused["fp32"] = _fused_onnx(model, work, "fp32", opset)
    if "int8" in names:
        built.paths["int8"] = export.quantize(built.paths["fp32"], work / "int8.onnx")
    if "pruned-int8" in names:
        if not bool(opt.prune.enabled):
            built.skipped["pruned-int8"] = "optimize.prune.enabled is false"
        else:
            shares = pruning(opt.prune)
            teacher = None  # the unpruned model, copied before the cuts
            if shares.distill:
                teacher = prune.Distilled(copy.deepcopy(model), shares.distill, shares.temperature)
            prune.prune_heads(model, shares.heads)
            if shares.ffn:
                prune.prune_ffn(model, shares.ffn)
            tokenizer = classifier.load_tokenizer(str(model_dir))
            prune.finetune(
                model, tokenizer, processed_dir, meta["max_length"], opt.prune, seed, teacher
            )
            fused, built.fused["pruned-int8"] = _fused_onnx(model, work, "pruned-fp32", opset)
            built.paths["pruned-int8"] = export.quantize(fused, work / "pruned-int8.onnx")
    for name in names:
        if name not in built.paths and name not in built.skipped:
            built.skipped[name] = "not built"
    return built
