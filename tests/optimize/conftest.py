"""A random tiny BERT saved as a model directory: export and pruning tests need real logits
(the session's trained tiny model predicts near-uniform probabilities), not a trained one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

LABELS = ["business", "entertainment", "politics", "sports", "tech"]
TEXTS = [
    "Shares in the bank fell sharply after the results.",
    "The striker scored twice in the second half.",
    "A new phone with a folding screen was launched.",
    "Parliament votes on the budget next week.",
    "ok",
]


@pytest.fixture(scope="session")
def random_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from omegaconf import OmegaConf

    from fullcycle import classifier
    from tests.conftest import REPO

    torch.manual_seed(0)
    cfg = OmegaConf.load(REPO / "conf" / "model" / "tiny.yaml")
    cfg.tiny.num_attention_heads = 4  # so that pruning half of them leaves two
    model = classifier.build_model(cfg, LABELS).eval()
    directory = tmp_path_factory.mktemp("random") / "model"
    classifier.save(directory, model, classifier.load_tokenizer("tiny"), LABELS, cfg.max_length)
    return directory


@pytest.fixture
def project_copy(optimized_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The trained project without the stage's outputs; cwd inside it."""
    root = tmp_path / "project"
    shutil.copytree(
        optimized_model.parents[1], root, ignore=shutil.ignore_patterns(".git", "dvclive")
    )
    shutil.rmtree(root / "models" / "optimized")
    shutil.rmtree(root / "reports" / "optimize")
    monkeypatch.chdir(root)
    return root
