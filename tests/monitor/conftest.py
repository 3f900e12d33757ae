"""Fixtures for the monitor tests: the real BBC corpus, a tiny random model, texts scored once.

Scoring is the slow part (two passes of the model over every text), so one session-wide scorer
caches each text's prediction and embedding; every case then runs the real Evidently report.
"""

from __future__ import annotations

import importlib
import inspect
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from omegaconf import DictConfig, OmegaConf

from fullcycle.core import classifier, params
from fullcycle.core.clean import clean_text
from fullcycle.core.validate import load_and_validate
from fullcycle.monitor.inputs import Scored, distinct

REPO = Path(__file__).resolve().parents[2]

# Quicker report settings for tests: fewer resamples and a smaller t-SNE map (same verdicts).
FAST = ["monitor.permutations=100", "monitor.embedding_map_rows=100"]


@pytest.fixture(scope="session")
def cfg() -> DictConfig:
    """The project's real configuration, with the tiny model."""
    return OmegaConf.create(params.compose(REPO / "conf", ["model=tiny", *FAST]))


@pytest.fixture(scope="session")
def bbc(cfg: DictConfig) -> pd.DataFrame:
    """The cleaned, deduplicated BBC News corpus (2,127 texts), as `prepare` reads it."""
    return load_and_validate(cfg.data).raise_if_invalid()


def build_untrained_model(directory: Path, cfg: DictConfig, labels: list[str]) -> Path:
    """An untrained model (`cfg.model`, e.g. MiniLM's encoder with a fresh head) saved as a model
    directory, as `fullcycle train` would write it."""
    torch.manual_seed(0)
    model = classifier.build_model(cfg.model, labels)
    tokenizer = classifier.load_tokenizer(cfg.model.name_or_path)
    classifier.save(directory, model, tokenizer, labels, int(cfg.model.max_length))
    return directory


@pytest.fixture(scope="session")
def tiny_model_dir(trained_model: Path, bbc: pd.DataFrame) -> Path:
    """The suite's tiny model, trained for one epoch on 40 texts per class: barely better than
    chance, so its predictions and embeddings are weak signals (see test_checks_minilm.py)."""
    assert classifier.read_meta(trained_model)["labels"] == sorted(bbc["label"].unique())
    return trained_model


class CachedScorer:
    """Classifier predictions and embeddings, each text scored once per session."""

    def __init__(self, model_dir: Path) -> None:
        self.model = classifier.Classifier(model_dir, device="cpu")
        self.labels = self.model.labels
        self.cache: dict[str, tuple[str, np.ndarray, float]] = {}

    def __call__(self, texts: pd.DataFrame, source: str = "test") -> Scored:
        text_set = distinct(texts[["text", "label"]].reset_index(drop=True), source)
        batch = list(text_set.texts["text"])
        new = [t for t in dict.fromkeys(batch) if t not in self.cache]
        if new:
            threads = torch.get_num_threads()
            torch.set_num_threads(1)  # on a busy 2-core machine, 3-5x faster than 2 threads
            try:
                probs, embeddings = self.model.score(new, 64)
            finally:
                torch.set_num_threads(threads)
            best = probs.max(-1)
            rows = zip(
                new, best.indices.tolist(), embeddings.numpy(), best.values.tolist(), strict=True
            )
            for text, p, e, c in rows:
                self.cache[text] = (self.labels[p], e, c)
        predicted = np.array([self.cache[t][0] for t in batch], dtype=object)
        embeddings = np.stack([self.cache[t][1] for t in batch])
        confidence = np.array([self.cache[t][2] for t in batch], dtype=np.float32)
        return Scored(text_set, predicted, embeddings, confidence)


@pytest.fixture(scope="session")
def scorer(tiny_model_dir: Path) -> CachedScorer:
    return CachedScorer(tiny_model_dir)


# Texts from another domain that every Python ships: the standard library's docstrings.
DOC_MODULES = [
    "argparse", "ast", "asyncio", "bisect", "codecs", "collections", "copy", "csv", "dataclasses",
    "datetime", "decimal", "email.message", "enum", "fnmatch", "fractions", "functools", "glob",
    "heapq", "http.client", "inspect", "io", "itertools", "json", "logging", "multiprocessing",
    "os", "pathlib", "pickle", "pprint", "random", "re", "shutil", "socket", "sqlite3",
    "statistics", "string", "subprocess", "tarfile", "tempfile", "textwrap", "threading",
    "typing", "unittest", "zipfile",
]  # fmt: skip


def docstrings(min_words: int = 40) -> list[str]:
    """Class and function docstrings of some standard modules: technical prose, not news."""
    found = set()
    for name in DOC_MODULES:
        for _, obj in sorted(vars(importlib.import_module(name)).items()):
            if inspect.isclass(obj) or inspect.isfunction(obj):
                doc = inspect.getdoc(obj)
                if doc and len(doc.split()) >= min_words:
                    found.add(clean_text(doc))
    return sorted(found)


def write_jsonl(path: Path, texts: list[str], **fields) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"text": t, **fields}) for t in texts]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def write_batch(path: Path, texts: list[str], scores: list[float] | None = None) -> Path:
    """A versioned traffic batch as `fullcycle traffic snapshot` writes it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = len(texts)
    pd.DataFrame(
        {
            "time": [f"2026-01-01T00:00:{i % 60:02d}.000000+00:00" for i in range(n)],
            "text": texts,
            "predicted": ["tech"] * n,
            "score": scores or [0.9] * n,
            "model": ["x"] * n,
            "request_id": ["1"] * n,
        }
    ).to_parquet(path, index=False)
    return path
