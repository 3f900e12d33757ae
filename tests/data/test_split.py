import pandas as pd
import pytest

from fullcycle.data.split import SPLITS, cap_per_class, split_fractions, stratified_split
from fullcycle.core.errors import FullcycleError

FRACTIONS = split_fractions({"val": 0.1, "test": 0.15, "production": 0.15})


def frame(per_class: dict[str, int]) -> pd.DataFrame:
    rows = [(f"{label} text number {i}", label) for label, n in per_class.items() for i in range(n)]
    return pd.DataFrame(rows, columns=["text", "label"])


def test_split_is_stratified_and_complete():
    df = frame({"a": 100, "b": 40, "c": 7})
    splits = stratified_split(df, FRACTIONS, seed=1)
    assert set(splits) == set(SPLITS)
    assert sum(len(s) for s in splits.values()) == len(df)
    joined = pd.concat(splits.values())
    assert not joined["text"].duplicated().any()
    for label, _n in {"a": 100, "b": 40, "c": 7}.items():
        for name in SPLITS:
            count = (splits[name]["label"] == label).sum()
            assert count >= 1, (name, label)
    # proportions hold per class within one row
    assert (splits["test"]["label"] == "a").sum() == 15
    assert (splits["train"]["label"] == "a").sum() == 60


def test_split_is_deterministic_and_independent_of_row_order():
    df = frame({"a": 50, "b": 30})
    first = stratified_split(df, FRACTIONS, seed=7)
    shuffled = stratified_split(df.sample(frac=1, random_state=3), FRACTIONS, seed=7)
    for name in SPLITS:
        pd.testing.assert_frame_equal(first[name], shuffled[name])


def test_capping_is_independent_of_row_order():
    """data.max_per_class keeps the same texts, and so the same splits, whatever the row order."""
    df = frame({"a": 60, "b": 45, "c": 30})
    forward = cap_per_class(df, 20, seed=7)
    backward = cap_per_class(df.iloc[::-1], 20, seed=7)
    shuffled = cap_per_class(df.sample(frac=1, random_state=5), 20, seed=7)
    assert forward["label"].value_counts().to_dict() == {"a": 20, "b": 20, "c": 20}
    for other in (backward, shuffled):
        assert sorted(other["text"]) == sorted(forward["text"])
    for name in SPLITS:
        pd.testing.assert_frame_equal(
            stratified_split(forward, FRACTIONS, seed=7)[name],
            stratified_split(backward, FRACTIONS, seed=7)[name],
        )
    assert cap_per_class(df, None, seed=7) is df


def test_seed_changes_the_split():
    df = frame({"a": 50, "b": 30})
    one = stratified_split(df, FRACTIONS, seed=1)["test"]["text"].tolist()
    two = stratified_split(df, FRACTIONS, seed=2)["test"]["text"].tolist()
    assert one != two


def test_too_small_class_is_an_error_naming_it():
    with pytest.raises(FullcycleError, match="class 'tiny' has 3 rows"):
        stratified_split(frame({"a": 50, "tiny": 3}), FRACTIONS, seed=0)


@pytest.mark.parametrize(
    "bad",
    [{"val": 0, "test": 0.1, "production": 0.1}, {"val": 0.5, "test": 0.3, "production": 0.2}],
)
def test_bad_fractions_are_rejected(bad):
    with pytest.raises(FullcycleError, match="data.split"):
        split_fractions(bad)
