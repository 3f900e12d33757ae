"""The LightningModule around a transformers sequence classifier.

Lightning owns the loop (devices, precision, clipping, checkpoints); this module only says what a
step is, what validation measures (macro-F1 over texts, each text's class probabilities averaged
over its windows as at prediction time: the checkpoint and early-stopping criterion) and how to
optimise (AdamW, linear warmup then linear decay to zero). The training loss is cross-entropy
with optional label smoothing (news topics overlap: a budget story is business and politics).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import lightning as L
import torch
import torch.nn.functional as F
from torchmetrics.functional.classification import multiclass_accuracy, multiclass_f1_score
from transformers import PreTrainedModel, get_linear_schedule_with_warmup

MONITOR = "val/f1_macro"


class TextClassifier(L.LightningModule):
    def __init__(
        self,
        model: PreTrainedModel,
        labels: Sequence[str],
        lr: float,
        weight_decay: float,
        warmup_ratio: float,
        seed: int,
        fused_adamw: bool = True,
        label_smoothing: float = 0.0,
        head_lr: float | None = None,
        layer_decay: float = 1.0,
    ) -> None:
        super().__init__()
        self.model = model
        self.labels = list(labels)
        self.lr, self.weight_decay, self.warmup_ratio = lr, weight_decay, warmup_ratio
        self.seed, self.fused_adamw = seed, fused_adamw
        self.label_smoothing = label_smoothing
        self.head_lr, self.layer_decay = head_lr, layer_decay
        self.distill: Callable | None = None  # (logits, inputs, loss) -> loss (optimize/prune.py)
        self._val_parts: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []

    def on_train_epoch_start(self) -> None:
        # Dropout masks then depend only on (seed, epoch): a run resumed at an epoch boundary
        # repeats exactly what an uninterrupted run does.
        torch.manual_seed(self.seed * 1_000_003 + self.current_epoch)
        # from_pretrained returns eval mode and Lightning keeps submodules' modes: without this,
        # dropout would be silently off during fine-tuning.
        self.model.train()

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        inputs = model_inputs(batch)
        logits = self.model(**inputs).logits
        loss = F.cross_entropy(logits, batch["labels"], label_smoothing=self.label_smoothing)
        if self.distill is not None:  # optimize's pruned re-fine-tune: a teacher's soft targets
            loss = self.distill(logits, inputs, loss)
        self.log("train/loss", loss, on_step=True, prog_bar=True, batch_size=len(batch["labels"]))
        return loss

    def on_validation_epoch_start(self) -> None:
        self._val_parts = []

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        logits = self.model(**model_inputs(batch)).logits
        n = len(batch["labels"])
        self.log(
            "val/loss",
            F.cross_entropy(logits, batch["labels"]),
            on_epoch=True,
            batch_size=n,
            sync_dist=True,
        )
        text = batch.get("text", torch.arange(n, device=logits.device))
        self._val_parts.append((text, logits.float().softmax(-1).detach(), batch["labels"]))

    def on_validation_epoch_end(self) -> None:
        """Macro-F1 and accuracy over texts: each text's probabilities averaged over its windows
        (summed over processes under DDP)."""
        if not self._val_parts:
            return
        text, probs, labels = (torch.cat(part) for part in zip(*self._val_parts, strict=True))
        k = len(self.labels)
        size = int(text.max()) + 1
        if self.trainer.world_size > 1:  # every process must sum the same number of texts
            size = int(
                self.trainer.strategy.reduce(
                    torch.tensor(size, device=text.device), reduce_op="max"
                )
            )
        sums = probs.new_zeros(size, k).index_add_(0, text, probs)
        votes = probs.new_zeros(size, k).index_add_(0, text, F.one_hot(labels, k).float())
        sums = self.trainer.strategy.reduce(sums, reduce_op="sum")
        votes = self.trainer.strategy.reduce(votes, reduce_op="sum")
        seen = votes.sum(-1) > 0
        predicted, actual = sums[seen].argmax(-1), votes[seen].argmax(-1)
        f1 = multiclass_f1_score(predicted, actual, num_classes=k, average="macro")
        accuracy = multiclass_accuracy(predicted, actual, num_classes=k, average="micro")
        self.log(MONITOR, f1, prog_bar=True)
        self.log("val/accuracy", accuracy)
        self._val_parts = []

    def configure_optimizers(self):
        # no weight decay on biases and LayerNorm weights (the 1-D parameters), as BERT was trained
        groups = parameter_groups(
            self.model, self.lr, self.weight_decay, self.head_lr, self.layer_decay
        )
        # fused AdamW is the fastest here (and transformers.Trainer's default); AMP's gradient
        # scaler cannot clip gradients of a fused optimizer, so mixed precision uses foreach
        kind = {"fused": True} if self.fused_adamw else {"foreach": True}
        optimizer = torch.optim.AdamW(groups, lr=self.lr, **kind)
        total = int(self.trainer.estimated_stepping_batches)
        schedule = get_linear_schedule_with_warmup(optimizer, int(total * self.warmup_ratio), total)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}


def model_inputs(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """What the transformer takes from a batch (not the labels, nor the window's text index)."""
    return {k: v for k, v in batch.items() if k not in ("labels", "text")}


_LAYER = re.compile(r"\.layers?\.(\d+)\.")


def parameter_groups(
    model: torch.nn.Module,
    lr: float,
    weight_decay: float,
    head_lr: float | None = None,
    layer_decay: float = 1.0,
) -> list[dict]:
    """AdamW's parameter groups. The head (the pooler and the classifier, which start untrained)
    learns at `head_lr` (None: `lr`); transformer layer i of n at lr * layer_decay ** (n - 1 - i)
    and the embeddings one step lower (layer-wise decay: the lower layers hold the general
    language pretraining learned, the upper ones adapt most). Weight decay only on matrices, not
    on biases or LayerNorm weights. Parameters with the same settings share one group."""
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    found = [int(m.group(1)) for n, _ in named if (m := _LAYER.search(n))]
    layers = max(found, default=-1) + 1
    groups: dict[tuple[float, float], dict] = {}
    for name, param in named:
        if "embeddings" in name:
            rate = lr * layer_decay**layers
        elif m := _LAYER.search(name):
            rate = lr * layer_decay ** (layers - 1 - int(m.group(1)))
        else:
            rate = lr if head_lr is None else head_lr
        decay = weight_decay if param.ndim >= 2 else 0.0
        key = (rate, decay)
        groups.setdefault(key, {"params": [], "lr": rate, "weight_decay": decay})
        groups[key]["params"].append(param)
    return list(groups.values())
