"""The real architecture (all-MiniLM-L6-v2, untrained head): every layer's attention fuses, ONNX
Runtime matches PyTorch, int8 stays close. Slow: `pytest -m slow tests/optimize`."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from fullcycle.core import classifier
from fullcycle.optimize import export, variants
from fullcycle.optimize.onnx_model import OnnxClassifier
from tests.conftest import REPO

from .conftest import LABELS, TEXTS

pytestmark = pytest.mark.slow


def test_minilm_exports_fuses_and_quantises(tmp_path):
    cfg = OmegaConf.load(REPO / "conf" / "model" / "minilm.yaml")
    torch.manual_seed(0)
    directory = tmp_path / "minilm"
    model = classifier.build_model(cfg, LABELS).eval()
    classifier.save(directory, model, classifier.load_tokenizer("minilm"), LABELS, cfg.max_length)
    model = variants.load_eager(directory)
    tokenizer = classifier.load_tokenizer(str(directory))
    enc = tokenizer(TEXTS, truncation=True, max_length=128, padding=True, return_tensors="pt")
    with torch.inference_mode():
        expected = model(**enc).logits.numpy()
    fp32, stats = variants._fused_onnx(model, tmp_path, "fp32", export.OPSET)
    assert stats["Attention"] == 6 and stats["EmbedLayerNormalization"] == 1
    int8 = export.quantize(fp32, tmp_path / "int8.onnx")
    got = OnnxClassifier(fp32, tokenizer, LABELS, 128).logits(TEXTS)
    assert np.abs(got - expected).max() < 1e-4
    quantised = OnnxClassifier(int8, tokenizer, LABELS, 128).logits(TEXTS)
    assert np.abs(quantised - expected).max() < 0.2
    assert int8.stat().st_size < fp32.stat().st_size / 3
