"""Structured pruning, then a short re-fine-tune: fewer attention heads and feed-forward neurons,
dense kernels that do less work (unstructured pruning leaves the matrices dense: no speed on a CPU,
measured).

Each layer keeps its `1 - heads_fraction` most important heads, importance being the norm of the
head's slice of the attention output projection (what the head can add to the residual stream),
and its `1 - ffn_fraction` most important feed-forward neurons (the norm of each neuron's column
of the output projection). The same number is kept in every layer, so ONNX Runtime's BERT fusion
still applies. `model.prune_heads` is gone in transformers 5; `prune_linear_layer` cuts the
projections. The re-fine-tune reuses the training step (TextClassifier) for `steps` steps on the
train split; with `distill` > 0 the unpruned model teaches it (its softened predictions are that
share of the loss), which keeps more of the accuracy in the same number of steps.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase
from transformers.pytorch_utils import prune_linear_layer


def prune_heads(model: PreTrainedModel, fraction: float) -> int:
    """Remove round(heads * fraction) heads from every layer (at least one stays); returns the
    heads kept per layer."""
    kept = 0
    for layer in model.base_model.encoder.layer:
        attention, output = layer.attention.self, layer.attention.output
        heads, size = attention.num_attention_heads, attention.attention_head_size
        kept = max(1, heads - round(heads * fraction))
        weight = output.dense.weight.detach().view(output.dense.out_features, heads, size)
        importance = weight.pow(2).sum(dim=(0, 2))
        keep = sorted(torch.topk(importance, kept).indices.tolist())
        index = torch.cat([torch.arange(h * size, (h + 1) * size) for h in keep])
        attention.query = prune_linear_layer(attention.query, index)
        attention.key = prune_linear_layer(attention.key, index)
        attention.value = prune_linear_layer(attention.value, index)
        output.dense = prune_linear_layer(output.dense, index, dim=1)
        attention.num_attention_heads, attention.all_head_size = kept, kept * size
    return kept


def prune_ffn(model: PreTrainedModel, fraction: float) -> int:
    """Remove round(neurons * fraction) feed-forward neurons from every layer; returns the neurons
    kept per layer."""
    kept = 0
    for layer in model.base_model.encoder.layer:
        inner, outer = layer.intermediate.dense, layer.output.dense
        kept = max(1, inner.out_features - round(inner.out_features * fraction))
        importance = outer.weight.detach().pow(2).sum(dim=0)
        keep = torch.sort(torch.topk(importance, kept).indices).values
        layer.intermediate.dense = prune_linear_layer(inner, keep)
        layer.output.dense = prune_linear_layer(outer, keep, dim=1)
    return kept


class Distilled:
    """The training step's loss mixed with knowledge distillation from a frozen teacher:
    (1 - weight) * cross-entropy + weight * T^2 * KL(teacher / T || student / T)."""

    def __init__(self, teacher: PreTrainedModel, weight: float, temperature: float) -> None:
        self.teacher = teacher.eval().requires_grad_(False)
        self.weight, self.temperature = weight, temperature

    def __call__(self, student_logits: torch.Tensor, inputs: dict, hard_loss: torch.Tensor):
        import torch.nn.functional as F

        with torch.no_grad():
            teacher_logits = self.teacher(**inputs).logits
        t = self.temperature
        soft = F.kl_div(
            F.log_softmax(student_logits / t, dim=-1),
            F.log_softmax(teacher_logits / t, dim=-1),
            reduction="batchmean",
            log_target=True,
        )
        return (1 - self.weight) * hard_loss + self.weight * t * t * soft


def finetune(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    processed_dir: str | Path,
    max_length: int,
    prune_cfg: Any,
    seed: int,
    distill: Distilled | None = None,
) -> PreTrainedModel:
    """`prune_cfg.steps` optimiser steps on the train split (no validation, no checkpoints), the
    loss mixed by `distill` (the unpruned model as teacher) when given."""
    import lightning as L

    from fullcycle.core.datamodule import TextDataModule
    from fullcycle.core.finetune import TextClassifier
    from fullcycle.core.logs import quiet

    quiet()
    steps = int(prune_cfg.steps)
    if steps <= 0:
        return model.eval()
    data = TextDataModule(
        processed_dir, tokenizer, max_length, int(prune_cfg.batch_size), seed=seed
    )
    module = TextClassifier(
        model,
        data.labels,
        lr=float(prune_cfg.lr),
        weight_decay=0.01,
        warmup_ratio=0.1,
        seed=seed,
        label_smoothing=0.1,
    )
    module.distill = distill
    L.seed_everything(seed, verbose=False)
    model.train()  # from_pretrained left it in eval mode (Lightning warns otherwise)
    trainer = L.Trainer(
        accelerator="cpu",
        devices=1,
        max_steps=steps,
        limit_val_batches=0,
        num_sanity_val_steps=0,
        logger=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        deterministic=True,
    )
    trainer.fit(module, datamodule=data)
    return model.eval()
