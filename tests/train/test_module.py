"""The LightningModule: dropout really on while training, AdamW groups, warmup-then-decay schedule,
label smoothing."""

import json

import lightning as L
import pandas as pd
import pytest
import torch
from omegaconf import OmegaConf

from fullcycle.classifier import build_model, load_tokenizer
from fullcycle.train.datamodule import TextDataModule
from fullcycle.train.module import TextClassifier

pytestmark = pytest.mark.usefixtures("one_thread")

TINY = OmegaConf.create(
    {
        "name_or_path": "tiny",
        "max_length": 16,
        "tiny": {
            "hidden_size": 32,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "intermediate_size": 64,
        },
    }
)


class RecordTraining(L.Callback):
    """Records, at every training batch, whether each dropout layer is active and the lr."""

    def __init__(self) -> None:
        self.dropout_active: list[bool] = []
        self.lrs: list[float] = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        dropouts = [m for m in pl_module.model.modules() if isinstance(m, torch.nn.Dropout)]
        assert dropouts, "the model has no dropout layers to check"
        self.dropout_active.append(all(m.training for m in dropouts))
        self.lrs.append(trainer.optimizers[0].param_groups[0]["lr"])


@pytest.fixture
def data(tmp_path):
    rows = pd.DataFrame(
        {"text": [f"sample {i} " * (1 + i % 5) for i in range(64)], "label": ["x", "y"] * 32}
    )
    for name in ("train", "val"):
        rows.to_parquet(tmp_path / f"{name}.parquet")
    (tmp_path / "labels.json").write_text(json.dumps(["x", "y"]))
    return TextDataModule(tmp_path, load_tokenizer("tiny"), 16, batch_size=8, seed=0)


def fit(module: TextClassifier, data: TextDataModule, epochs: int = 2) -> RecordTraining:
    record = RecordTraining()
    trainer = L.Trainer(
        max_epochs=epochs,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[record],
    )
    trainer.fit(module, datamodule=data)
    return record


def test_dropout_is_active_during_training_even_after_validation_and_eval_mode(data):
    model = build_model(TINY, ["x", "y"]).eval()  # what from_pretrained hands back
    module = TextClassifier(
        model, ["x", "y"], lr=1e-3, weight_decay=0.01, warmup_ratio=0.25, seed=0
    )
    record = fit(module, data)  # validation between the epochs switches to eval and back
    assert len(record.dropout_active) == 16
    assert all(record.dropout_active)


def test_adamw_skips_weight_decay_on_biases_and_layernorm_and_lr_warms_up_then_decays(data):
    module = TextClassifier(
        build_model(TINY, ["x", "y"]),
        ["x", "y"],
        lr=1e-3,
        weight_decay=0.01,
        warmup_ratio=0.25,
        seed=0,
    )
    record = fit(module, data)
    decay, no_decay = module.trainer.optimizers[0].param_groups
    assert decay["weight_decay"] == 0.01 and no_decay["weight_decay"] == 0.0
    assert all(p.ndim >= 2 for p in decay["params"]) and all(
        p.ndim == 1 for p in no_decay["params"]
    )
    lrs = record.lrs  # 16 steps, 4 of warmup
    assert lrs[0] == 0.0 and max(lrs) == pytest.approx(1e-3) and lrs.index(max(lrs)) == 4
    assert lrs[4:] == sorted(lrs[4:], reverse=True) and lrs[-1] < 1e-4


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_training_loss_is_cross_entropy_with_the_configured_label_smoothing(data, smoothing):
    torch.manual_seed(0)
    module = TextClassifier(
        build_model(TINY, ["x", "y"]).eval(),  # eval: no dropout, the same logits twice
        ["x", "y"],
        lr=1e-3,
        weight_decay=0.01,
        warmup_ratio=0.25,
        seed=0,
        label_smoothing=smoothing,
    )
    module.log = lambda *args, **kwargs: None  # no Trainer attached to log to
    data.setup()
    batch = next(iter(data.train_dataloader()))
    loss = module.training_step(batch, 0)
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    logits = module.model(**inputs).logits
    smoothed = torch.nn.functional.cross_entropy(logits, batch["labels"], label_smoothing=0.1)
    assert loss.item() == pytest.approx(
        smoothed.item() if smoothing else module.model(**batch).loss.item()
    )
    assert (loss.item() == pytest.approx(smoothed.item())) == bool(smoothing)
