"""Which runtime answers /classify: ONNX Runtime on the optimised model, or PyTorch on the trained one.

serve.runtime (conf/serve/default.yaml), overridden at start-up by FULLCYCLE_SERVE_RUNTIME:
- onnx (default): models/optimized/, the variant the optimize stage chose (int8, fp32, ...), run
  by ONNX Runtime (CUDA provider when this onnxruntime build and the machine have one, else CPU);
- torch: models/classifier/ in PyTorch (fp32), the fallback an operator can switch to.
Both predict the same {label, score, scores} per text, so the service's contract, batching and
limits do not change. Start-up fails with one clear message (naming the file) when the optimised
model is missing, damaged, or was built from another model than the one being served.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fullcycle.core.errors import FullcycleError
from fullcycle.serve.settings import RUNTIMES

RUNTIME_ENV = "FULLCYCLE_SERVE_RUNTIME"


def _fallback_hint() -> str:
    return f"or serve the PyTorch model with {RUNTIME_ENV}=torch"


def load(
    runtime: str,
    model_dir: str | Path,
    optimized_dir: str | Path | None,
    source_version: str | None = None,
) -> tuple[Any, dict[str, Any]]:
    """(model with .predict(texts, batch_size), what /metadata says about the runtime)."""
    if runtime == "torch":
        from fullcycle.core.classifier import Classifier

        model = Classifier(model_dir)
        return model, {"name": "torch", "variant": "fp32", "device": str(model.device)}
    if runtime != "onnx":
        raise FullcycleError(f"serve.runtime is {runtime!r}: use one of {', '.join(RUNTIMES)}.")
    if optimized_dir is None:
        raise FullcycleError(
            "this bento carries no optimised model (it was packaged with serve.runtime=torch): "
            f"package it again with serve.runtime=onnx, {_fallback_hint()}."
        )
    from fullcycle.optimize.onnx_model import OnnxClassifier

    model = OnnxClassifier.load(optimized_dir)
    check_source(model.manifest, optimized_dir, source_version)
    info = {
        "name": "onnx",
        "variant": model.variant,
        "providers": list(model.providers),
        "source_version": model.manifest["source"].get("version"),
        "metrics": model.manifest.get("metrics"),
    }
    return model, info


def check_source(manifest: dict[str, Any], optimized_dir: str | Path, version: str | None) -> None:
    """The optimised model must come from the model being served (else /metadata would lie)."""
    built_from = (manifest.get("source") or {}).get("version")
    if version and built_from != version:
        raise FullcycleError(
            f"{Path(optimized_dir) / 'manifest.json'}: the optimised model was built from model "
            f"version {built_from}, but the model being served is {version}: run "
            f"`dvc repro optimize` (or `fullcycle optimize`), {_fallback_hint()}."
        )


def check(runtime: str, model_dir: str | Path, optimized_dir: str | Path) -> None:
    """Fail now, in the command that starts the server, rather than in a worker's traceback."""
    if runtime == "onnx":
        from fullcycle.core.provenance import content_version
        from fullcycle.optimize.onnx_model import OnnxClassifier

        model = OnnxClassifier.load(optimized_dir)
        check_source(model.manifest, optimized_dir, content_version(model_dir))
    elif runtime != "torch":
        raise FullcycleError(f"serve.runtime is {runtime!r}: use one of {', '.join(RUNTIMES)}.")
