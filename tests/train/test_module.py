"""The LightningModule: dropout really on while training, AdamW groups, warmup-then-decay schedule,
label smoothing."""

import json

import lightning as L
import pandas as pd
import pytest
import torch
from omegaconf import OmegaConf
from torchmetrics.functional.classification import multiclass_f1_score

from fullcycle.core.classifier import build_model, load_tokenizer
from fullcycle.core.datamodule import TextDataModule
from fullcycle.core.finetune import TextClassifier, parameter_groups

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


def test_head_learning_rate_and_layer_wise_decay_put_each_parameter_in_one_group():
    model = build_model(OmegaConf.merge(TINY, {"tiny": {"num_hidden_layers": 2}}), ["x", "y"])
    groups = parameter_groups(model, 1e-4, 0.01, head_lr=1e-3, layer_decay=0.5)
    rate = {id(p): g["lr"] for g in groups for p in g["params"]}
    decay = {id(p): g["weight_decay"] for g in groups for p in g["params"]}
    named = dict(model.named_parameters())
    assert len(rate) == len(named) == sum(len(g["params"]) for g in groups)
    expected = {
        "classifier.weight": 1e-3,  # the untrained head
        "bert.pooler.dense.weight": 1e-3,
        "bert.encoder.layer.1.output.dense.weight": 1e-4,  # the top layer: lr
        "bert.encoder.layer.0.attention.self.query.weight": 5e-5,
        "bert.embeddings.word_embeddings.weight": 2.5e-5,  # below the bottom layer
    }
    for name, lr in expected.items():
        assert rate[id(named[name])] == pytest.approx(lr), name
    assert decay[id(named["bert.encoder.layer.0.output.LayerNorm.weight"])] == 0.0
    assert decay[id(named["bert.encoder.layer.0.output.dense.bias"])] == 0.0
    assert decay[id(named["bert.encoder.layer.0.output.dense.weight"])] == 0.01
    # off by default: one rate, the decay / no-decay split only
    default = parameter_groups(model, 1e-4, 0.01)
    assert [(g["lr"], g["weight_decay"]) for g in default] == [(1e-4, 0.01), (1e-4, 0.0)]


def test_head_learning_rate_reaches_the_optimizer_and_follows_the_schedule(data):
    module = TextClassifier(
        build_model(TINY, ["x", "y"]),
        ["x", "y"],
        lr=1e-4,
        weight_decay=0.01,
        warmup_ratio=0.25,
        seed=0,
        head_lr=1e-2,
    )
    fit(module, data, epochs=1)
    peaks = sorted({g["initial_lr"] for g in module.trainer.optimizers[0].param_groups})
    assert peaks == [pytest.approx(1e-4), pytest.approx(1e-2)]


def test_validation_scores_texts_by_their_windows_mean(tmp_path):
    """val/f1_macro is over texts, each text's probabilities averaged over its windows: what
    evaluate and the service predict, so the kept checkpoint is chosen on the same reading."""
    texts = [" ".join(f"w{i}x{j}" for j in range(2 + 11 * (i % 3))) for i in range(16)]
    rows = pd.DataFrame({"text": texts, "label": ["x", "y", "y", "x"] * 4})
    for name in ("train", "val"):
        rows.to_parquet(tmp_path / f"{name}.parquet")
    (tmp_path / "labels.json").write_text(json.dumps(["x", "y"]))
    data = TextDataModule(tmp_path, load_tokenizer("tiny"), 8, batch_size=5, n_windows=4)
    torch.manual_seed(3)
    module = TextClassifier(build_model(TINY, ["x", "y"]), ["x", "y"], 1e-3, 0.0, 0.0, seed=0)
    trainer = L.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False)
    got = trainer.validate(module, datamodule=data, verbose=False)[0]
    val = data.splits["val"]
    assert len(val) > val.texts  # some texts have several windows
    sums = torch.zeros(val.texts, 2)
    module.model.eval()
    with torch.inference_mode():
        for ids, text in zip(val.input_ids, val.owner, strict=True):
            sums[text] += module.model(input_ids=torch.tensor([ids])).logits[0].softmax(-1)
    predicted = sums.argmax(-1)
    actual = torch.tensor([0 if label == "x" else 1 for label in rows["label"]])
    f1 = multiclass_f1_score(predicted, actual, num_classes=2, average="macro")
    assert got["val/f1_macro"] == pytest.approx(float(f1), abs=1e-6)
    assert got["val/accuracy"] == pytest.approx(float((predicted == actual).float().mean()))
