import pandas as pd

from fullcycle.core.clean import clean_text, clean_texts


def test_whitespace_unicode_and_control_characters_are_normalised():
    assert clean_text("  Hello\t\tworld \n\n again  ") == "Hello world again"
    assert clean_text("ﬁnance\u00a0news") == "finance news"  # NFKC: ligature, no-break space
    assert clean_text("zero\u200bwidth\x00 bell\x07") == "zerowidth bell"
    assert clean_text("\ufeffbom") == "bom"


def test_clean_texts_keeps_missing_values_missing():
    out = clean_texts(pd.Series([" a ", None]))
    assert out.iloc[0] == "a"
    assert pd.isna(out.iloc[1])
