"""A tiny BERT with large random weights, for attributions worth checking.

The tiny model trained for one epoch on 40 texts per class barely moves its logits (~1e-4): too
flat to test completeness against. Larger random weights make the logits swing by whole units,
which is what integrated gradients must then account for (and, at few steps, miss: a large delta).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

LABELS = ["business", "entertainment", "politics", "sports", "tech"]


@pytest.fixture(scope="module")
def random_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The model's directory (classifier.save's layout): load it with Classifier(dir)."""
    from transformers import BertConfig, BertForSequenceClassification

    from fullcycle.core import classifier

    tokenizer = classifier.load_tokenizer("tiny")
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=len(LABELS),
        initializer_range=0.3,
    )
    directory = tmp_path_factory.mktemp("explain") / "model"
    model = BertForSequenceClassification(config).eval()
    classifier.save(directory, model, tokenizer, LABELS, max_length=64)
    return directory
