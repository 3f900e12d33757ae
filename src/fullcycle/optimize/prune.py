"""Structured head pruning, then a short re-fine-tune: fewer attention heads, dense kernels that do
less work (unstructured pruning leaves the matrices dense: no speed on a CPU, measured).

Each layer keeps its `1 - heads_fraction` most important heads, importance being the norm of the
head's slice of the attention output projection (what the head can add to the residual stream).
The same number of heads is kept in every layer, so ONNX Runtime's BERT fusion still applies.
`model.prune_heads` is gone in transformers 5; `prune_linear_layer` cuts the projections.
The re-fine-tune reuses the training step (TextClassifier) for `steps` steps on the train split.
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


def finetune(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    processed_dir: str | Path,
    max_length: int,
    prune_cfg: Any,
    seed: int,
) -> PreTrainedModel:
    """`prune_cfg.steps` optimiser steps on the train split (no validation, no checkpoints)."""
    import lightning as L

    from fullcycle.train.datamodule import TextDataModule
    from fullcycle.train.module import TextClassifier
    from fullcycle.train.stage import quiet

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
