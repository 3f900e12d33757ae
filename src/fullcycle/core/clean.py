"""Text cleaning: one normal form for every text before it is validated, deduplicated or split."""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

# Control and format characters (C0/C1 controls, zero-width spaces, BOMs...). Tabs and newlines are
# whitespace and are collapsed below instead.
_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]"
)
_SPACES = re.compile(r"\s+")


def clean_text(text: str) -> str:
    """NFKC-normalise, drop control characters and collapse runs of whitespace to one space."""
    text = unicodedata.normalize("NFKC", text)
    text = _CONTROL.sub("", text)
    return _SPACES.sub(" ", text).strip()


def clean_texts(texts: pd.Series) -> pd.Series:
    """`clean_text` over a column; missing values stay missing (validation reports them)."""
    return texts.map(lambda t: clean_text(t) if isinstance(t, str) else t)
