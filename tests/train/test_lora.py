"""model.peft=lora: adapters and the head train, the base stays frozen, and models/classifier/ is a
plain transformers model (loads without peft); resume and determinism hold as for full training."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import lightning as L
import pytest
import torch
from omegaconf import OmegaConf
from safetensors.torch import load_file

from fullcycle.core import classifier, params
from fullcycle.core.errors import FullcycleError
from fullcycle.data import prepare
from fullcycle.train import lora, stage
from tests.conftest import REPO
from tests.train.test_stage import as_dvc_would, kill_training, outcome

pytestmark = pytest.mark.usefixtures("one_thread")

LORA = [
    "model=tiny",
    "data.max_per_class=40",
    "trainer.max_epochs=2",
    "model.peft=lora",
    "train.lr=3e-3",
]
LABELS = ["business", "entertainment", "politics", "sports", "tech"]


@pytest.fixture
def prepared(project_factory) -> Path:
    root = project_factory(LORA)
    prepare.run(params.load())
    return root


def test_lora_trains_adapters_and_head_and_saves_a_merged_plain_model(prepared, capsys):
    cfg = params.load()
    stage.run(cfg)
    out = capsys.readouterr().out
    assert (
        "LoRA r=8 alpha=16 on query, value of the top 1 layer(s) + the classifier head, pooler:"
        in out
    )
    saved = load_file(prepared / "models/classifier/model.safetensors")
    assert not [k for k in saved if "lora" in k or "base_model" in k]
    L.seed_everything(42, verbose=False)  # the same initial weights the run started from
    start = classifier.build_model(cfg.model, LABELS).state_dict()
    frozen = "bert.encoder.layer.1.intermediate.dense.weight"
    assert torch.equal(saved[frozen], start[frozen])  # not adapted: untouched
    below = "bert.encoder.layer.0.attention.self.query.weight"
    assert torch.equal(saved[below], start[below])  # under model.lora.top_layers: no adapter
    query = "bert.encoder.layer.1.attention.self.query.weight"
    assert not torch.equal(saved[query], start[query])  # the adapter merged into it
    assert not torch.equal(saved["classifier.weight"], start["classifier.weight"])  # head trained
    pooler = "bert.pooler.dense.weight"
    assert not torch.equal(saved[pooler], start[pooler])  # model.lora.modules_to_save: trained

    # serving's view: AutoModelForSequenceClassification, with peft impossible to import
    code = (
        "import sys; sys.modules['peft'] = None\n"
        "import torch\n"
        "from transformers import AutoModelForSequenceClassification, AutoTokenizer\n"
        "d = sys.argv[1]\n"
        "m = AutoModelForSequenceClassification.from_pretrained(d).eval()\n"
        "t = AutoTokenizer.from_pretrained(d)\n"
        "with torch.no_grad(): print(m(**t(['Shares rose'], return_tensors='pt')).logits.tolist())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(prepared / "models/classifier")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    here = classifier.Classifier(prepared / "models/classifier", device="cpu")
    with torch.no_grad():
        logits = here.model(**here.tokenizer(["Shares rose"], return_tensors="pt")).logits
    assert torch.allclose(torch.tensor(eval(done.stdout)), logits, atol=1e-5)


def test_merging_keeps_the_adapted_model_s_outputs():
    cfg = OmegaConf.create(
        {
            "name_or_path": "tiny",
            "max_length": 32,
            "peft": "lora",
            "lora": {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": ["query", "value"]},
            "tiny": {
                "hidden_size": 32,
                "num_hidden_layers": 1,
                "num_attention_heads": 2,
                "intermediate_size": 64,
            },
        }
    )
    torch.manual_seed(0)
    model = lora.wrap(classifier.build_model(cfg, LABELS), cfg).eval()
    n, total = lora.trainable(model)
    assert 0 < n < total / 5
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:  # B starts at zero: make the adapters do something
                p.normal_(0, 0.5)
        ids = torch.randint(0, 1000, (2, 12))
        before = model(input_ids=ids).logits
        plain = lora.merged(model)
        assert type(plain).__name__ == "BertForSequenceClassification"
        assert torch.allclose(plain(input_ids=ids).logits, before, atol=1e-5)


def tiny_lora(top_layers: int | None) -> torch.nn.Module:
    cfg = params.compose(REPO / "conf", ["model=tiny", "model.peft=lora"])["model"]
    cfg["lora"]["top_layers"] = top_layers
    torch.manual_seed(0)
    return lora.wrap(classifier.build_model(OmegaConf.create(cfg), LABELS), OmegaConf.create(cfg))


def adapted_layers(model: torch.nn.Module) -> set[str]:
    return {
        n.split(".layer.")[1].split(".")[0] for n, _ in model.named_parameters() if "lora_A" in n
    }


def test_top_layers_put_adapters_on_the_top_layers_and_the_backward_stops_below_them():
    assert adapted_layers(tiny_lora(None)) == {"0", "1"}
    model = tiny_lora(1)
    assert adapted_layers(model) == {"1"}
    model.train()
    seen: list[bool] = []  # does layer 0's output take part in the backward pass?
    layer0 = model.base_model.model.bert.encoder.layer[0]
    layer0.register_forward_hook(lambda m, i, out: seen.append(out[0].requires_grad))
    out = model(input_ids=torch.randint(0, 1000, (2, 12)), labels=torch.tensor([0, 1]))
    out.loss.backward()
    assert seen == [False]  # nothing below the adapters needs a gradient: autograd stops there
    grads = {n for n, p in model.named_parameters() if p.grad is not None}
    assert grads and all(".layer.1." in n or "classifier" in n or "pooler" in n for n in grads)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("model.peft", "qlora", "model.peft = 'qlora'; use one of none, lora"),
        ("model.lora.target_modules", ["no_such_layer"], "model.lora is not usable"),
        ("model.lora.top_layers", 3, "model.lora.top_layers = 3; use null .* from 1 to 2"),
        ("model.lora.top_layers", 0, "model.lora.top_layers = 0"),
        ("model.lora.top_layers", "two", "model.lora.top_layers = 'two'"),
    ],
)
def test_bad_lora_settings_are_clear_errors(prepared, key, value, message):
    cfg = params.load()
    OmegaConf.update(cfg, key, value)
    with pytest.raises(FullcycleError, match=message):
        stage.run(cfg)


def test_a_killed_lora_run_resumes_to_the_same_result(prepared):
    reference = stage.run(params.load()), outcome(prepared)
    as_dvc_would(prepared)
    kill_training(prepared, 1)  # at the start of the second epoch
    as_dvc_would(prepared)
    summary = stage.run(params.load())
    assert summary["resumed_at_epoch"] == 1
    assert (summary | {"resumed_at_epoch": None}, outcome(prepared)) == reference
