"""PyTorch -> ONNX: export, BERT fusion and dynamic int8 quantisation, each a plain file in a folder.

- export: torch.onnx's legacy (TorchScript) exporter on a model loaded with eager attention: the
  only combination whose graph ONNX Runtime's BERT optimizer can fuse (measured; the dynamo
  exporter and SDPA attention leave the attention unfused). Batch and sequence axes are dynamic.
- fuse: `onnxruntime.transformers.optimizer.optimize_model(model_type="bert", opt_level=0)`: the
  Python fusions only (Attention, SkipLayerNorm, BiasGelu, ...), so the file is portable and the
  same on every machine (ORT's own graph optimisations run in memory at load time).
- quantize: `onnxruntime.quantization.quantize_dynamic` (int8 weights, activations quantised per
  batch at run time); the fused graph needs DefaultTensorType=FLOAT or quantisation fails.

Each step writes its output atomically and rewrites the model's free-text fields (doc strings,
producer) to fixed values, so the same model and versions give the same bytes.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from transformers import PreTrainedModel

from fullcycle.core.errors import FullcycleError
from fullcycle.core.io import atomic_path

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OPSET = 17


class _Logits(torch.nn.Module):
    """The classifier as a function of its token tensors, returning only the logits."""

    def __init__(self, model: PreTrainedModel, inputs: tuple[str, ...]) -> None:
        super().__init__()
        self.model, self.inputs = model, inputs

    def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
        return self.model(**dict(zip(self.inputs, tensors, strict=True))).logits


def input_names(model: PreTrainedModel) -> tuple[str, ...]:
    """The token tensors the model takes (BERT: ids, mask and segment ids)."""
    uses_types = getattr(model.config, "type_vocab_size", 0) > 0
    return INPUTS if uses_types else INPUTS[:2]


def export(model: PreTrainedModel, path: Path, opset: int = OPSET) -> Path:
    """The model as an ONNX graph with inputs input_ids/attention_mask[/token_type_ids] and output
    logits, dynamic in batch and sequence. `model` must use eager attention (see the docstring)."""
    if getattr(model.config, "_attn_implementation", "eager") != "eager":
        raise ValueError("export needs a model loaded with attn_implementation='eager'")
    names = input_names(model)
    sample = (
        torch.ones(2, 16, dtype=torch.long),
        torch.ones(2, 16, dtype=torch.long),
        torch.zeros(2, 16, dtype=torch.long),
    )[: len(names)]
    axes = {name: {0: "batch", 1: "sequence"} for name in names} | {"logits": {0: "batch"}}
    # eval mode on the wrapper too: the exporter restores the wrapper's mode afterwards, and a
    # wrapper in train mode would leave the model with dropout on
    wrapper = _Logits(model, names).eval()
    with atomic_path(path) as tmp, warnings.catch_warnings(), torch.inference_mode(False):
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation and tracer warnings
        torch.onnx.export(
            wrapper,
            sample,
            str(tmp),
            input_names=list(names),
            output_names=["logits"],
            dynamic_axes=axes,
            opset_version=opset,
            do_constant_folding=True,
            dynamo=False,
        )
        _stabilise(tmp)
    return path


def fuse(source: Path, path: Path, num_heads: int = 0, hidden_size: int = 0) -> dict[str, int]:
    """BERT fusion of `source` into `path`; returns the fused operators' counts (Attention, ...).
    num_heads/hidden_size 0: read them from the graph."""
    from onnxruntime.transformers.optimizer import optimize_model

    # ORT's fusion modules log under their own names; for a pruned model (attention narrower
    # than the hidden size) they warn about the shape we pass, which is right (the logits match)
    logging.disable(logging.WARNING)
    try:
        optimized = optimize_model(
            str(source),
            model_type="bert",
            num_heads=num_heads,
            hidden_size=hidden_size,
            opt_level=0,
            use_gpu=False,
        )
    finally:
        logging.disable(logging.NOTSET)
    stats = {k: int(v) for k, v in optimized.get_fused_operator_statistics().items() if v}
    with atomic_path(path) as tmp:
        optimized.save_model_to_file(str(tmp), use_external_data_format=False)
        _stabilise(tmp)
    return stats


def quantize(source: Path, path: Path, **options: Any) -> Path:
    """Dynamic int8 quantisation of `source` (weights int8, activations per batch) into `path`.
    `options` go to quantize_dynamic: the stage uses its defaults (QInt8 weights, one scale per
    tensor); bench/int8_ceiling.py times other choices."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    options = {"weight_type": QuantType.QInt8} | options
    with atomic_path(path) as tmp, _quiet_root(_PREPROCESS_HINT):
        quantize_dynamic(
            str(source),
            str(tmp),
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            **options,
        )
        _stabilise(tmp)
    return path


_PREPROCESS_HINT = "Please consider to run pre-processing before quantization"


@contextmanager
def _quiet_root(prefix: str) -> Iterator[None]:
    """Drop one known root-logger message (quantize_dynamic's hint about static quantisation's
    pre-processing, which does not apply to dynamic quantisation)."""

    def keep(record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(prefix)

    root = logging.getLogger()
    root.addFilter(keep)
    try:
        yield
    finally:
        root.removeFilter(keep)


def _stabilise(path: Path) -> None:
    """Fixed free-text fields: a file's bytes then depend on the model and the versions only."""
    import onnx

    try:
        model = onnx.load(str(path))
    except Exception as exc:  # onnx raises DecodeError and others for a damaged file
        raise FullcycleError(f"{path}: the exported ONNX file does not load ({exc})") from None
    model.doc_string = ""
    model.graph.doc_string = ""
    for node in model.graph.node:
        node.doc_string = ""  # the legacy exporter may put Python stack traces here
    onnx.save(model, str(path))
