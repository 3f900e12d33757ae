"""The optimised model: an ONNX file, its tokenizer and a manifest, run with ONNX Runtime.

models/optimized/ (written by the optimize stage) holds `model.onnx`, the tokenizer files and
`manifest.json`: the variant (int8, fp32, pruned-int8), the labels and max length, the source
model's version (the hash of models/classifier's bytes) and the variant's test metrics.
`OnnxClassifier` predicts like `fullcycle.core.classifier.Classifier`, so the service, the optimize
stage and the benchmarks use either one the same way.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fullcycle.core import paths, windows
from fullcycle.core.errors import FullcycleError

MODEL_FILE = "model.onnx"
MANIFEST = "manifest.json"
DEFAULT_DIR = paths.OPTIMIZED_DIR
THREADS_ENV = "OMP_NUM_THREADS"  # the same knob as torch's, so one setting tunes either runtime
RERUN = (
    "rerun `fullcycle optimize` (or `dvc repro optimize`), or serve the PyTorch model "
    "with FULLCYCLE_SERVE_RUNTIME=torch"
)


def read_manifest(directory: str | Path) -> dict[str, Any]:
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise FullcycleError(
            f"{path} not found: {Path(directory)} is not an optimised model; {RERUN}."
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FullcycleError(f"{path} is not valid JSON ({exc}): {RERUN}.") from None
    missing = {"variant", "labels", "max_length", "source"} - set(manifest)
    if missing:
        raise FullcycleError(f"{path} lacks {sorted(missing)}: {RERUN}.")
    return manifest


def providers() -> list[str]:
    """CUDA when this onnxruntime build and the machine have it, else the CPU."""
    import onnxruntime as ort

    available = ort.get_available_providers()
    wanted = ("CUDAExecutionProvider", "CPUExecutionProvider")
    return [p for p in wanted if p in available] or ["CPUExecutionProvider"]


def session(path: str | Path, threads: int | None = None):
    """An ONNX Runtime session that does not spin: by default ORT's idle threads busy-wait and
    take CPU from everything else on the machine (measured). `threads` 0/None: ORT's default, or
    OMP_NUM_THREADS when set."""
    import onnxruntime as ort

    path = Path(path)
    if not path.is_file():
        raise FullcycleError(f"{path} not found: {RERUN}.")
    options = ort.SessionOptions()
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    threads = threads or int(os.environ.get(THREADS_ENV, "0") or 0)
    options.intra_op_num_threads = max(0, threads)
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only: ORT warns about every unfused node at load
    try:
        return ort.InferenceSession(str(path), options, providers=providers())
    except Exception as exc:  # ORT raises its own Fail/InvalidGraph/... types
        reason = str(exc).strip().splitlines()[0][:300]
        raise FullcycleError(f"{path} is not a loadable ONNX model ({reason}): {RERUN}.") from None


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


class OnnxClassifier:
    """An ONNX classifier and its tokenizer: `probabilities` and `predict` as in Classifier."""

    def __init__(
        self,
        model_path: str | Path,
        tokenizer: Any,
        labels: Sequence[str],
        max_length: int,
        threads: int | None = None,
        manifest: dict[str, Any] | None = None,
        n_windows: int = 1,
    ) -> None:
        self.path = Path(model_path)
        self.session = session(self.path, threads)
        self.tokenizer = tokenizer
        self.labels = list(labels)
        self.max_length = int(max_length)
        self.windows = int(
            n_windows
        )  # how many windows of a text it reads (fullcycle.core.windows)
        self.manifest = manifest or {}
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.providers = self.session.get_providers()

    @classmethod
    def load(
        cls, directory: str | Path = DEFAULT_DIR, threads: int | None = None
    ) -> OnnxClassifier:
        """models/optimized/ as the optimize stage wrote it."""
        directory = Path(directory)
        manifest = read_manifest(directory)
        path = directory / manifest.get("model_file", MODEL_FILE)
        model = cls(
            path,
            None,
            manifest["labels"],
            manifest["max_length"],
            threads,
            manifest,
            int(manifest.get("windows", 1)),
        )
        from transformers import AutoTokenizer  # here: a bad model file fails without torch

        try:
            model.tokenizer = AutoTokenizer.from_pretrained(directory)
        except (OSError, ValueError) as exc:
            raise FullcycleError(
                f"{directory}: the tokenizer does not load ({exc}): {RERUN}."
            ) from None
        return model

    @property
    def variant(self) -> str:
        return str(self.manifest.get("variant", "unknown"))

    def _run(self, cut: windows.Windows, batch_size: int) -> np.ndarray:
        """Logits of every window, in window order."""
        out = np.empty((len(cut.ids), len(self.labels)), dtype=np.float32)
        pad = self.tokenizer.pad_token_id or 0
        for idx, input_ids, mask in cut.batches(batch_size, pad):
            given = {"input_ids": input_ids, "attention_mask": mask}
            feed = {name: given.get(name, np.zeros_like(input_ids)) for name in self.inputs}
            out[idx] = self.session.run(["logits"], feed)[0]
        return out

    def logits(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Raw logits of each text's first window, shape (len(texts), len(labels))."""
        return self._run(windows.split(self.tokenizer, texts, self.max_length), batch_size)

    def probabilities(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Class probabilities in input order: the mean over each text's windows."""
        cut = windows.split(self.tokenizer, texts, self.max_length, self.windows)
        return cut.mean(softmax(self._run(cut, batch_size).astype(np.float64)))

    def predict(self, texts: Sequence[str], batch_size: int = 32) -> list[dict[str, Any]]:
        """One {label, score, scores} per text, in input order (as Classifier.predict)."""
        from fullcycle.core.classifier import predictions

        return predictions(self.labels, self.probabilities(texts, batch_size).tolist())
