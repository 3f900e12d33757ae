"""The plan section's schema (conf/plan/default.yaml): every bad value is one line naming the key,
the value and what is allowed; the values themselves live in conf/plan/ only."""

from __future__ import annotations

import pytest
import yaml

from fullcycle.core import params
from fullcycle.core.errors import FullcycleError
from fullcycle.core.schema_release import Plan
from tests.core.test_schema import CONF, text_with


@pytest.fixture(scope="module")
def composed() -> dict:
    return params.compose(CONF)


def test_the_default_plan_validates_and_is_in_params_yaml(composed):
    plan = Plan.model_validate(yaml.safe_load((CONF / "plan" / "default.yaml").read_text()))
    assert plan.goal.metric == "test.accuracy" and plan.goal.target == 0.98
    assert composed["plan"] == plan.model_dump()
    assert "promote" not in plan.model_dump()  # the gate is conf/promote's, echoed not copied


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("plan.goal.target", 1.5, "plan.goal.target = 1.5: must be a number in (0, 1]"),
        ("plan.goal.target", 0, "plan.goal.target = 0: must be a number in (0, 1]"),
        ("plan.goal.metric", "val.accuracy", "plan.goal.metric = 'val.accuracy': must be one of"),
        ("plan.budget.train_minutes", 0, "plan.budget.train_minutes = 0: must be a number > 0"),
        ("plan.budget.gpu", "yes", "plan.budget.gpu = 'yes': must be true or false"),
        ("plan.budget.tune_space", "../x", "plan.budget.tune_space = '../x': must be a string"),
        ("plan.budget.tune_trials", 0, "plan.budget.tune_trials = 0: must be a whole number >= 1"),
        ("plan.measure.steps", 0, "plan.measure.steps = 0: must be a whole number in [1, 50]"),
        ("plan.measure.warmup_steps", -1, "plan.measure.warmup_steps = -1: must be a whole"),
        ("plan.measure.sample_texts", 10, "plan.measure.sample_texts = 10: must be a whole number"),
    ],
)
def test_a_bad_plan_value_is_one_line(composed, key, value, message):
    with pytest.raises(FullcycleError) as error:
        params.load_text(text_with(composed, key, value), "params.yaml")
    text = str(error.value)
    assert text.startswith(f"params.yaml: {message}") and "(conf/plan/default.yaml)" in text
    assert "\n" not in text


def test_an_unknown_or_missing_plan_key_is_named(composed):
    with pytest.raises(FullcycleError, match=r"plan.budgt is not a setting \(did you mean plan"):
        params.load_text(text_with(composed, "plan.budgt", {}), "params.yaml")
    with pytest.raises(FullcycleError, match=r"plan.goal is missing: must be a mapping of metric"):
        params.load_text(text_with(composed, "plan.goal", None, delete=True), "params.yaml")
