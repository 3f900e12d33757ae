"""LoRA (`model.peft: lora`): train low-rank adapters and the classifier head, not every weight.

peft owns the adapters. Training sees a `PeftModelForSequenceClassification`: frozen base weights,
trainable LoRA matrices on `model.lora.target_modules`, and (task type SEQ_CLS) a fully trained copy
of the head, plus of `model.lora.modules_to_save` (BERT's pooler: all-MiniLM-L6-v2 was trained for
mean pooling, so the [CLS] pooler the classifier reads was never trained for it).

`model.lora.top_layers` puts the adapters on the top layers only: nothing below them needs a
gradient, so the backward pass stops there (on a CPU the backward through every frozen layer costs
more than the weight gradients LoRA saves; measured by bench/lora_speed.py).

What gets saved is `merge_and_unload()`'s plain transformers model, so evaluate, serve, optimise
and monitor load models/classifier/ exactly as after full fine-tuning, without peft.
"""

from __future__ import annotations

import warnings
from typing import Any

from transformers import PreTrainedModel

from fullcycle.core.errors import FullcycleError

CHOICES = ("none", "lora")


def method(model_cfg: Any) -> str:
    """model.peft, checked: 'none' (full fine-tuning, the default) or 'lora'."""
    value = str(model_cfg.get("peft", "none") or "none").lower()
    if value not in CHOICES:
        raise FullcycleError(
            f"params.yaml: model.peft = {value!r}; use one of {', '.join(CHOICES)} "
            "(-S model.peft=lora)."
        )
    return value


def wrap(model: PreTrainedModel, model_cfg: Any) -> PreTrainedModel:
    """The model to train: `model` itself, or `model` with LoRA adapters when model.peft is lora."""
    if method(model_cfg) == "none":
        return model
    from peft import LoraConfig, TaskType, get_peft_model

    lora = model_cfg.get("lora") or {}
    targets = list(lora.get("target_modules") or [])
    layers = top_layers(model, lora.get("top_layers"))
    try:
        config = LoraConfig(
            task_type=TaskType.SEQ_CLS,  # the classifier head is trained fully (modules_to_save)
            r=int(lora.get("r", 8)),
            lora_alpha=int(lora.get("alpha", 16)),
            lora_dropout=float(lora.get("dropout", 0.1)),
            target_modules=targets,
            layers_to_transform=layers,
            modules_to_save=list(lora.get("modules_to_save") or []) or None,
        )
        with warnings.catch_warnings():  # peft 0.21 calls an API transformers 5 deprecates
            warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
            return get_peft_model(model, config)
    except (ValueError, TypeError) as exc:
        raise FullcycleError(
            f"params.yaml: model.lora is not usable with {type(model).__name__} ({exc}); "
            "check model.lora.r / alpha / dropout / target_modules (e.g. [query, value] for BERT)."
        ) from None


def top_layers(model: PreTrainedModel, top: Any) -> list[int] | None:
    """The indices of the `top` highest encoder layers (None: every layer)."""
    if top is None:
        return None
    count = int(getattr(model.config, "num_hidden_layers", 0) or 0)
    if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= max(count, 1):
        raise FullcycleError(
            f"params.yaml: model.lora.top_layers = {top!r}; use null (every layer) or a whole "
            f"number from 1 to {count}, the model's layers (-S model.lora.top_layers=2)."
        )
    return list(range(count - top, count))


def trainable(model: Any) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    total = sum(p.numel() for p in model.parameters())
    return sum(p.numel() for p in model.parameters() if p.requires_grad), total


def describe(model: Any, model_cfg: Any) -> str:
    """One log line: what trains, and its share of the weights."""
    n, total = trainable(model)
    what = "full fine-tuning"
    if method(model_cfg) == "lora":
        lora = model_cfg.lora
        targets = ", ".join(map(str, lora.target_modules))
        top = lora.get("top_layers")
        where = f" of the top {top} layer(s)" if top else ""
        head = ", ".join(["the classifier head", *map(str, lora.get("modules_to_save") or [])])
        what = f"LoRA r={lora.r} alpha={lora.alpha} on {targets}{where} + {head}"
    return f"train: {what}: {n:,} of {total:,} parameters trainable ({n / total:.2%})"


def merged(model: Any) -> PreTrainedModel:
    """The plain transformers model to save: adapters merged into the base weights."""
    if hasattr(model, "merge_and_unload"):
        return model.merge_and_unload()
    return model
