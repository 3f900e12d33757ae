"""Per-text descriptors that drift checks compare: computed here, offline and vectorised.

Evidently has descriptors of the same names, but its OOV descriptor downloads NLTK word lists at
run time (fails offline) and judges words against English, not against what the model was trained
on; its other descriptors loop over characters in Python. These four are plain pandas, so 50k long
texts take seconds.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

import numpy as np
import pandas as pd

# A word is a run of letters (any script), optionally with one inner apostrophe: "don't", "Zürich".
WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_NON_LETTER = re.compile(r"[^\w ]|[\d_]")  # anything but a letter or a plain space

DESCRIPTORS = {
    "text_length": "characters per text",
    "word_count": "words per text",
    "non_letter_share": "% of characters that are neither letters nor spaces",
    "oov_share": "% of words never seen in the training texts",
}


def words(text: str) -> list[str]:
    return [w.lower() for w in WORD.findall(text)]


class Vocabulary:
    """The training texts' words, with how many texts each appears in.

    A training text's own words are trivially in a vocabulary built from it, so reference rows are
    judged leave-one-out: a word is out of vocabulary for a training text when no *other* training
    text has it (document frequency 1). Without this, reference OOV would be 0 and every held-out
    sample would look drifted.
    """

    def __init__(self, texts: Iterable[str]) -> None:
        self.doc_freq: Counter[str] = Counter()
        for text in texts:
            self.doc_freq.update(set(words(text)))

    def __len__(self) -> int:
        return len(self.doc_freq)

    def oov_share(self, texts: Iterable[str], leave_one_out: bool = False) -> np.ndarray:
        """% of each text's words outside the vocabulary (of the other training texts, if
        `leave_one_out`: use it for texts the vocabulary was built from)."""
        seen = 1 if leave_one_out else 0
        out = []
        for text in texts:
            tokens = words(text)
            oov = sum(1 for w in tokens if self.doc_freq.get(w, 0) <= seen)
            out.append(100.0 * oov / len(tokens) if tokens else 0.0)
        return np.asarray(out, dtype=float)


def describe(texts: pd.Series, vocabulary: Vocabulary, leave_one_out: bool = False) -> pd.DataFrame:
    """The descriptors of `texts`, one row per text, columns named as in DESCRIPTORS."""
    texts = texts.astype(str).reset_index(drop=True)
    length = texts.str.len()
    return pd.DataFrame(
        {
            "text_length": length.astype(float),
            "word_count": texts.str.count(WORD.pattern).astype(float),
            "non_letter_share": (
                100.0 * texts.str.count(_NON_LETTER.pattern) / length.clip(lower=1)
            ).astype(float),
            "oov_share": vocabulary.oov_share(texts, leave_one_out=leave_one_out),
        }
    )
