"""fullcycle.core.metric_spec: `FILE:section.key`, read one way everywhere."""

from __future__ import annotations

import pytest

from fullcycle.core import metric_spec
from fullcycle.core.errors import FullcycleError


def test_a_spec_names_a_file_and_a_dotted_key():
    assert metric_spec.split("dvclive/metrics.json:best.val_f1_macro") == (
        "dvclive/metrics.json",
        "best.val_f1_macro",
    )
    assert metric_spec.split("test.f1_macro", "reports/eval/metrics.json") == (
        "reports/eval/metrics.json",
        "test.f1_macro",
    )


@pytest.mark.parametrize("spec", ["test.f1_macro", "dvclive/metrics.json:", ""])
def test_a_spec_without_a_file_or_key_is_an_error_that_shows_the_form(spec):
    with pytest.raises(FullcycleError, match="FILE:section.key"):
        metric_spec.split(spec)


def test_pick_returns_numbers_only():
    tree = {"test": {"f1_macro": 0.97, "rows": 532, "ok": True, "name": "x"}}
    assert metric_spec.pick(tree, "test.f1_macro") == 0.97
    assert metric_spec.pick(tree, "test.rows") == 532.0
    assert metric_spec.pick(tree, "test.ok") is None  # a bool is not a metric
    assert metric_spec.pick(tree, "test.name") is None
    assert metric_spec.pick(tree, "test.missing.deeper") is None
    assert metric_spec.pick_json('{"best": {"v": 0.5}}', "best.v") == 0.5
    assert metric_spec.pick_json("not json", "best.v") is None
    assert metric_spec.pick_json(None, "best.v") is None
