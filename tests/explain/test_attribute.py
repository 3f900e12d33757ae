"""Attributions on a tiny BERT with large random weights (conftest.py says why): completeness,
words, batching."""

from __future__ import annotations

import pytest
import torch

from fullcycle.core.classifier import Classifier
from fullcycle.explain.attribute import Explainer

pytestmark = pytest.mark.usefixtures("one_thread")

TEXTS = [
    "Shares in the bank fell sharply after the quarterly results disappointed investors.",
    "The striker scored twice as the champions won the cup final.",
    "Unbelievably, the smartphone's battery lasts three days.",
]


@pytest.fixture(scope="module")
def explainer(random_model) -> Explainer:
    return Explainer(Classifier(random_model, device="cpu"))


def _logits(model: Classifier, ids: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model.model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits


def test_completeness_sum_of_attributions_is_the_logit_change_within_delta(explainer):
    """Sum of attributions = logit(text) - logit(all-[PAD] baseline), up to the reported delta;
    the logits are computed here independently, from token ids (not the explainer's embeddings)."""
    model, tok = explainer.model, explainer.model.tokenizer
    for e in explainer.explain(TEXTS, n_steps=50):
        ids = tok(e.text, return_tensors="pt")["input_ids"]
        base = ids.clone()
        base[0, 1:-1] = tok.pad_token_id  # keep [CLS] and [SEP]
        target = model.labels.index(e.label)
        change = float(_logits(model, ids)[0, target] - _logits(model, base)[0, target])
        total = sum(a for _, _, a in e.words)
        assert abs(change) > 1e-3  # the trained model's logits do move: a real check
        assert total == pytest.approx(change + e.delta, abs=1e-4)
        assert abs(total - change) <= abs(e.delta) + 1e-4
        assert abs(e.delta) < 0.05 * max(abs(change), 1.0)  # 50 steps converge on this model


def test_more_steps_shrink_the_delta(explainer):
    coarse = explainer.explain(TEXTS[:1], n_steps=2)[0]
    fine = explainer.explain(TEXTS[:1], n_steps=64)[0]
    assert abs(fine.delta) <= abs(coarse.delta) + 1e-6


def test_word_pieces_are_merged_back_into_words(explainer):
    text = "Unbelievably, the smartphone's battery lasts"
    (e,) = explainer.explain([text], n_steps=8)
    words = [w["word"] for w in e.word_list()]
    # the tokenizer's words: punctuation stands alone, "unbelievably" is several pieces
    assert words == ["Unbelievably", ",", "the", "smartphone", "'", "s", "battery", "lasts"]
    assert len(explainer.model.tokenizer.tokenize(text)) > len(words)
    assert all(text[w["start"] : w["end"]] == w["word"] for w in e.word_list())
    assert e.predicted == e.label and 0 < e.score <= 1


def test_batched_texts_get_the_same_attributions_as_alone(explainer):
    together = explainer.explain(TEXTS, n_steps=16)
    for text, batched in zip(TEXTS, together, strict=True):
        (alone,) = explainer.explain([text], n_steps=16)
        assert [w[:2] for w in alone.words] == [w[:2] for w in batched.words]
        assert [w[2] for w in alone.words] == pytest.approx([w[2] for w in batched.words], abs=1e-4)


def test_long_texts_are_truncated_and_say_so(explainer):
    text = "markets " * 300
    (e,) = explainer.explain([text], n_steps=4)
    assert e.tokens == explainer.model.max_length - 2
    assert len(e.words) == e.tokens and e.read_chars < len(text)
