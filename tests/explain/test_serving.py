"""POST /explain's answer in-process: the warning on a large completeness delta."""

from __future__ import annotations

import pytest

from fullcycle.core.classifier import Classifier
from fullcycle.explain.serving import Endpoint

pytestmark = pytest.mark.usefixtures("one_thread")

TEXT = "Shares in the bank fell sharply after the quarterly results disappointed investors."


@pytest.fixture(scope="module")
def model(random_model) -> Classifier:
    return Classifier(random_model, device="cpu")


def test_a_large_delta_carries_a_warning_naming_the_fix(model):
    endpoint = Endpoint(model, warn_delta=0.05, max_steps=64)
    coarse = endpoint.explain(TEXT, n_steps=1)
    assert abs(coarse.delta) > 0.05  # the random model's logits swing: one step misses by a lot
    assert coarse.warning == (
        f"completeness delta {coarse.delta:+.3g} is large (|delta| > 0.05): the attributions are "
        "approximate; raise n_steps (now 1, up to 64) or serve.explain_steps"
    )
    fine = endpoint.explain(TEXT, n_steps=64)
    assert abs(fine.delta) <= 0.05 and fine.warning is None
    assert fine.model_dump()["warning"] is None  # the field is always in the answer


def test_at_the_most_steps_the_warning_says_so(model):
    endpoint = Endpoint(model, warn_delta=1e-9, max_steps=2)
    answer = endpoint.explain(TEXT, n_steps=2)
    assert answer.warning is not None
    assert "already the most allowed (serve.explain_max_steps = 2)" in answer.warning


def test_the_threshold_is_on_the_absolute_delta(model):
    endpoint = Endpoint(model, warn_delta=0.1)
    assert endpoint.warning(0.1, 20) is None and endpoint.warning(-0.1, 20) is None
    assert endpoint.warning(-0.26, 20).startswith(
        "completeness delta -0.26 is large (|delta| > 0.1)"
    )
    assert endpoint.warning(float("nan"), 20) is not None
