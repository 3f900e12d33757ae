"""The LightningModule around a transformers sequence classifier.

Lightning owns the loop (devices, precision, clipping, checkpoints); this module only says what a
step is, what validation measures (macro-F1: the checkpoint and early-stopping criterion) and how
to optimise (AdamW, linear warmup then linear decay to zero). The training loss is cross-entropy
with optional label smoothing (news topics overlap: a budget story is business and politics).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import lightning as L
import torch
import torch.nn.functional as F
from torchmetrics.classification import MulticlassAccuracy, MulticlassF1Score
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
    ) -> None:
        super().__init__()
        self.model = model
        self.labels = list(labels)
        self.lr, self.weight_decay, self.warmup_ratio = lr, weight_decay, warmup_ratio
        self.seed, self.fused_adamw = seed, fused_adamw
        self.label_smoothing = label_smoothing
        self.distill: Callable | None = None  # (logits, inputs, loss) -> loss (optimize/prune.py)
        self.val_f1 = MulticlassF1Score(num_classes=len(labels), average="macro")
        self.val_accuracy = MulticlassAccuracy(num_classes=len(labels), average="micro")

    def on_train_epoch_start(self) -> None:
        # Dropout masks then depend only on (seed, epoch): a run resumed at an epoch boundary
        # repeats exactly what an uninterrupted run does.
        torch.manual_seed(self.seed * 1_000_003 + self.current_epoch)
        # from_pretrained returns eval mode and Lightning keeps submodules' modes: without this,
        # dropout would be silently off during fine-tuning.
        self.model.train()

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        inputs = {k: v for k, v in batch.items() if k != "labels"}
        logits = self.model(**inputs).logits
        loss = F.cross_entropy(logits, batch["labels"], label_smoothing=self.label_smoothing)
        if self.distill is not None:  # optimize's pruned re-fine-tune: a teacher's soft targets
            loss = self.distill(logits, inputs, loss)
        self.log("train/loss", loss, on_step=True, prog_bar=True, batch_size=len(batch["labels"]))
        return loss

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        out = self.model(**batch)
        predicted = out.logits.argmax(-1)
        self.val_f1.update(predicted, batch["labels"])
        self.val_accuracy.update(predicted, batch["labels"])
        n = len(batch["labels"])
        self.log("val/loss", out.loss, on_epoch=True, batch_size=n, sync_dist=True)
        self.log(MONITOR, self.val_f1, on_epoch=True, prog_bar=True, batch_size=n)
        self.log("val/accuracy", self.val_accuracy, on_epoch=True, batch_size=n)

    def configure_optimizers(self):
        # no weight decay on biases and LayerNorm weights (the 1-D parameters), as BERT was trained
        params = [p for p in self.model.parameters() if p.requires_grad]
        groups = [
            {"params": [p for p in params if p.ndim >= 2], "weight_decay": self.weight_decay},
            {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
        ]
        # fused AdamW is the fastest here (and transformers.Trainer's default); AMP's gradient
        # scaler cannot clip gradients of a fused optimizer, so mixed precision uses foreach
        kind = {"fused": True} if self.fused_adamw else {"foreach": True}
        optimizer = torch.optim.AdamW(groups, lr=self.lr, **kind)
        total = int(self.trainer.estimated_stepping_batches)
        schedule = get_linear_schedule_with_warmup(optimizer, int(total * self.warmup_ratio), total)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}
