"""Helpers for the serving tests. The model served is the session's `trained_model` (the tiny model
trained once through the real prepare and train stages, see tests/conftest.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import REPO

LABELS = ["business", "entertainment", "politics", "sports", "tech"]
API_KEY = "k3y-for-tests-9f2c41"
# as evaluate writes it: each test metric with its 95% interval (/metadata shows them)
METRICS = {
    "test": {
        "accuracy": 0.91,
        "accuracy_ci": [0.88, 0.94],
        "f1_macro": 0.9,
        "f1_macro_ci": [0.87, 0.93],
    }
}


def serve_project(
    root: Path, model_dir: Path, optimized_dir: Path | None = None, **serve: object
) -> Path:
    """params.yaml composed from the real conf/ (serve settings overridden), bentofile.yaml, the
    model at models/classifier and test metrics at reports/eval/metrics.json. With
    `optimized_dir`, the optimize stage's output at models/optimized (the default ONNX runtime
    serves it); without, serve.runtime is torch."""
    from fullcycle.core import params

    root.mkdir(parents=True, exist_ok=True)
    if optimized_dir is None:
        serve.setdefault("runtime", "torch")
    overrides = [f"serve.{key}={value}" for key, value in serve.items()]
    params.write(root / "params.yaml", REPO / "conf", overrides)
    shutil.copy(REPO / "bentofile.yaml", root / "bentofile.yaml")
    shutil.copytree(model_dir, root / "models" / "classifier")
    if optimized_dir is not None:
        shutil.copytree(optimized_dir, root / "models" / "optimized")
    (root / "reports" / "eval").mkdir(parents=True)
    (root / "reports" / "eval" / "metrics.json").write_text(json.dumps(METRICS))
    return root
