"""fullcycle.core.windows: a long text read as consecutive windows, their probabilities averaged, the
same way by PyTorch and ONNX Runtime."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from fullcycle.core import classifier, windows
from fullcycle.optimize import export, variants
from fullcycle.optimize.onnx_model import OnnxClassifier

from ..conftest import LABELS

LONG = " ".join(f"word{i}" for i in range(300))  # ~900 word pieces
TEXTS = ["A short one.", LONG, "", "The striker scored twice in the second half. " * 12]


@pytest.fixture(scope="module")
def tokenizer():
    return classifier.load_tokenizer("tiny")


def test_one_window_is_plain_truncation_and_the_first_of_many_is_the_same(tokenizer):
    plain = tokenizer(TEXTS, truncation=True, max_length=32)["input_ids"]
    one = windows.split(tokenizer, TEXTS, 32, 1)
    assert one.ids == plain and one.owner.tolist() == [0, 1, 2, 3]
    many = windows.split(tokenizer, TEXTS, 32, 4)
    firsts = [many.ids[list(many.owner).index(i)] for i in range(len(TEXTS))]
    assert firsts == plain


def test_windows_cover_the_text_in_order_up_to_the_limit(tokenizer):
    cut = windows.split(tokenizer, [LONG, "A short one."], 32, 5)
    assert np.bincount(cut.owner).tolist() == [5, 1]  # the long text stops at 5 windows
    body = tokenizer(LONG, add_special_tokens=False)["input_ids"]
    long_windows = [ids for ids, i in zip(cut.ids, cut.owner, strict=True) if i == 0]
    assert all(len(ids) == 32 for ids in long_windows)
    assert all(
        ids[0] == tokenizer.cls_token_id and ids[-1] == tokenizer.sep_token_id
        for ids in long_windows
    )
    assert [t for ids in long_windows for t in ids[1:-1]] == body[: 5 * 30]
    # a text shorter than the limit reads all of it, an empty text one window of specials only
    cut = windows.split(tokenizer, [LONG, ""], 32, 100)
    assert sum(cut.owner == 0) == -(-len(body) // 30) and sum(cut.owner == 1) == 1


def test_no_room_between_the_specials_is_an_error(tokenizer):
    with pytest.raises(ValueError, match="no room"):
        windows.split(tokenizer, TEXTS, 2, 3)


def test_mean_averages_each_texts_windows():
    cut = windows.Windows([[1], [2], [3]], np.array([0, 0, 1]), 3)
    rows = np.array([[1.0, 0.0], [0.0, 1.0], [0.2, 0.8]])
    assert cut.mean(rows).tolist() == [[0.5, 0.5], [0.2, 0.8], [0.0, 0.0]]


@pytest.fixture(scope="module")
def windowed(random_model: Path, tmp_path_factory) -> Path:
    """The random tiny model, told to read 3 windows of 64 tokens."""
    directory = tmp_path_factory.mktemp("windowed") / "model"
    model = classifier.Classifier(random_model, device="cpu")
    classifier.save(directory, model.model, model.tokenizer, LABELS, 64, n_windows=3)
    return directory


def test_a_windowed_model_predicts_the_mean_of_its_windows(windowed):
    model = classifier.Classifier(windowed, device="cpu")
    assert (
        model.windows == 3 and json.loads((windowed / "fullcycle.json").read_text())["windows"] == 3
    )
    cut = windows.split(model.tokenizer, TEXTS, 64, 3)
    by_hand = []
    with torch.inference_mode():
        for ids in cut.ids:
            logits = model.model(input_ids=torch.tensor([ids])).logits[0]
            by_hand.append(logits.double().softmax(-1).numpy())
    expected = cut.mean(np.array(by_hand))
    probs, embeddings = model.score(TEXTS, batch_size=3)
    assert np.allclose(model.probabilities(TEXTS, batch_size=2).numpy(), expected, atol=1e-5)
    assert np.allclose(probs.numpy(), expected, atol=1e-5)
    assert torch.allclose(embeddings, model.embed(TEXTS), atol=1e-5)
    # more than the first window counts: the long text's mean is not its first window's
    assert sum(cut.owner == 1) == 3 and np.abs(expected[1] - by_hand[1]).max() > 1e-6


def test_onnx_runtime_reads_the_same_windows(windowed, tmp_path):
    model = classifier.Classifier(windowed, device="cpu")
    path = export.export(variants.load_eager(windowed), tmp_path / "model.onnx")
    onnx = OnnxClassifier(path, model.tokenizer, LABELS, 64, n_windows=3)
    assert np.allclose(
        onnx.probabilities(TEXTS, batch_size=2), model.probabilities(TEXTS).numpy(), atol=1e-4
    )
