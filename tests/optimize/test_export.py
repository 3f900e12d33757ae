"""Export, fusion, quantisation and head pruning on a random tiny BERT: ONNX Runtime must give the
logits PyTorch gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from fullcycle.core import classifier
from fullcycle.core.errors import FullcycleError
from fullcycle.optimize import export, prune, variants
from fullcycle.optimize.onnx_model import OnnxClassifier

from .conftest import LABELS, TEXTS


def torch_logits(model, tokenizer, texts=TEXTS) -> np.ndarray:
    enc = tokenizer(texts, truncation=True, max_length=64, padding=True, return_tensors="pt")
    with torch.inference_mode():
        return model(**enc).logits.numpy()


def onnx_logits(path: Path, tokenizer) -> np.ndarray:
    return OnnxClassifier(path, tokenizer, LABELS, 64).logits(TEXTS, batch_size=2)


@pytest.fixture(scope="module")
def fused(random_model: Path, tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("export")
    model = variants.load_eager(random_model)
    raw = export.export(model, work / "raw.onnx")
    stats = export.fuse(raw, work / "fp32.onnx", 4, 64)
    return model, classifier.load_tokenizer(str(random_model)), raw, work / "fp32.onnx", stats


def test_export_round_trips_the_logits(fused):
    model, tokenizer, raw, fp32, stats = fused
    expected = torch_logits(model, tokenizer)
    assert np.abs(expected).max() > 0.01  # a real signal to compare
    for path in (raw, fp32):  # batches of 2, sorted by length: dynamic batch and sequence axes
        assert np.abs(onnx_logits(path, tokenizer) - expected).max() < 1e-4
    assert stats["Attention"] == 2 and stats["SkipLayerNormalization"] >= 2  # BERT fusion ran
    assert not model.training  # exporting left dropout off (it used to switch it on)


def test_int8_is_smaller_and_close(fused, tmp_path):
    model, tokenizer, _, fp32, _ = fused
    int8 = export.quantize(fp32, tmp_path / "int8.onnx")
    assert int8.stat().st_size < fp32.stat().st_size / 2
    diff = np.abs(onnx_logits(int8, tokenizer) - torch_logits(model, tokenizer)).max()
    assert 0 < diff < 0.1


def test_exports_are_byte_identical(fused, tmp_path):
    model, _, raw, fp32, _ = fused
    again = export.fuse(export.export(model, tmp_path / "raw.onnx"), tmp_path / "fp32.onnx", 4, 64)
    assert again and (tmp_path / "raw.onnx").read_bytes() == raw.read_bytes()
    assert (tmp_path / "fp32.onnx").read_bytes() == fp32.read_bytes()
    one, two = (
        export.quantize(fp32, tmp_path / "a.onnx"),
        export.quantize(fp32, tmp_path / "b.onnx"),
    )
    assert one.read_bytes() == two.read_bytes()


def test_head_pruning_keeps_the_graph_fusable_and_exact(random_model, tmp_path):
    model = variants.load_eager(random_model)
    tokenizer = classifier.load_tokenizer(str(random_model))
    assert prune.prune_heads(model, 0.5) == 2
    attention = model.base_model.encoder.layer[0].attention.self
    assert attention.query.out_features == attention.all_head_size == 2 * 16
    expected = torch_logits(model, tokenizer)  # the pruned model still runs in torch
    raw = export.export(model, tmp_path / "raw.onnx")
    stats = export.fuse(raw, tmp_path / "fused.onnx", 2, 32)
    assert stats["Attention"] == 2
    assert np.abs(onnx_logits(tmp_path / "fused.onnx", tokenizer) - expected).max() < 1e-4


def test_ffn_pruning_keeps_the_graph_fusable_and_exact(random_model, tmp_path):
    model = variants.load_eager(random_model)
    tokenizer = classifier.load_tokenizer(str(random_model))
    before = model.base_model.encoder.layer[0].intermediate.dense.out_features
    assert prune.prune_ffn(model, 0.5) == before // 2
    layer = model.base_model.encoder.layer[0]
    assert layer.intermediate.dense.out_features == layer.output.dense.in_features == before // 2
    expected = torch_logits(model, tokenizer)
    raw = export.export(model, tmp_path / "raw.onnx")
    stats = export.fuse(raw, tmp_path / "fused.onnx", 4, 64)
    assert stats["Attention"] == 2 and stats["BiasGelu"] == 2
    assert np.abs(onnx_logits(tmp_path / "fused.onnx", tokenizer) - expected).max() < 1e-4


def test_distillation_pulls_the_student_toward_the_teacher():
    student = torch.tensor([[2.0, 0.0, 0.0]])
    hard = torch.tensor(1.0)

    class Teacher(torch.nn.Module):
        def forward(self, **inputs):
            return type("Out", (), {"logits": inputs["logits"]})

    loss = prune.Distilled(Teacher(), 0.5, 2.0)
    same = loss(student, {"logits": student.clone()}, hard)
    other = loss(student, {"logits": torch.tensor([[0.0, 2.0, 0.0]])}, hard)
    assert torch.isclose(same, torch.tensor(0.5))  # only the hard half when they agree
    assert other > same
    assert prune.Distilled(Teacher(), 0.0, 2.0)(student, {"logits": student}, hard) == hard


def test_a_damaged_onnx_file_is_named(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"not onnx")
    with pytest.raises(FullcycleError, match=f"{path} is not a loadable ONNX model"):
        OnnxClassifier(path, None, LABELS, 64)
    with pytest.raises(FullcycleError, match="manifest.json not found"):
        OnnxClassifier.load(tmp_path)
