"""Per-text descriptors, computed offline: definitions on hand-checked examples."""

import pandas as pd
import pytest

from fullcycle.monitor.descriptors import Vocabulary, describe, words


def test_words_are_lowercased_letter_runs_in_any_script():
    assert words("Don't stop: Zürich 2024, naïve co-op!") == [
        "don't",
        "stop",
        "zürich",
        "naïve",
        "co",
        "op",
    ]


def test_describe_counts_characters_words_and_non_letters():
    row = describe(pd.Series(["Hello, world 42!"]), Vocabulary(["hello world"])).iloc[0]
    assert row["text_length"] == 16 and row["word_count"] == 2
    assert row["non_letter_share"] == pytest.approx(100 * 4 / 16)  # , 4 2 !
    assert row["oov_share"] == 0


def test_training_texts_are_judged_leave_one_out():
    """A training text's own words are always in a vocabulary built from it: a word only it uses
    counts as unseen, as it would for a held-out text."""
    vocabulary = Vocabulary(["a b c", "a b d"])
    assert list(vocabulary.oov_share(["a b c", "a b d"], leave_one_out=True)) == pytest.approx(
        [100 / 3, 100 / 3]
    )
    assert list(vocabulary.oov_share(["a e", "c", "", "42"])) == [50.0, 0.0, 0.0, 0.0]
