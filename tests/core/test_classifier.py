"""fullcycle.core.classifier.Classifier: a trained model directory that predicts, embeds and scores."""

import torch

from fullcycle.core.classifier import Classifier

TEXTS = [
    "Shares fell sharply after the results.",
    "The striker scored twice in the second half of a long and tense cup final.",
    "A new phone",
]


def test_score_is_probabilities_and_embeddings_from_one_pass_in_input_order(trained_model):
    model = Classifier(trained_model, device="cpu")
    probs, embeddings = model.score(TEXTS, batch_size=2)  # batches sorted by length, then put back
    assert torch.allclose(probs, model.probabilities(TEXTS, batch_size=3), atol=1e-5)
    assert torch.allclose(embeddings, model.embed(TEXTS, batch_size=1), atol=1e-5)
    assert probs.shape == (3, len(model.labels)) and torch.allclose(probs.sum(-1), torch.ones(3))
    assert embeddings.shape == (3, model.model.config.hidden_size)
    labels = [p["label"] for p in model.predict(TEXTS)]
    assert labels == [model.labels[i] for i in probs.argmax(-1).tolist()]


def test_empty_input_gives_empty_results(trained_model):
    probs, embeddings = Classifier(trained_model, device="cpu").score([])
    assert probs.shape[0] == 0 and embeddings.shape[0] == 0
