"""reports/explain/index.html: one self-contained page (inline CSS, no scripts, no external files).

Every piece of text from the data is escaped (html.escape), so a text holding `<script>` shows as
those characters. Each word's background is green when it pushed toward the explained class and red
when it pushed away, its strength the word's share of the text's largest |attribution|; hovering
shows the number. The part of a text past the model's max_length tokens is greyed: the model never
read it. Numbers are rounded so that two runs of the same inputs write the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from fullcycle.explain.attribute import Explanation

UNREAD_SHOWN = 300  # characters of the unread rest of a text shown (the page stays small)
STYLE = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem} h2{font-size:1.1rem;margin-top:2rem}
.text{border:1px solid #ddd;border-radius:6px;padding:.8rem 1rem;margin:1rem 0}
.meta{font-size:.85rem;color:#555;margin-bottom:.5rem}
.wrong{color:#b00020;font-weight:600}
.body{line-height:1.7;white-space:pre-wrap}
.unread{color:#999}
table{border-collapse:collapse} td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left}
"""


LEVELS = 10  # shades per direction: a class per shade keeps the page small
STYLE += "".join(
    f".p{k}{{background:rgba(0,150,60,{k * 0.08:.2f})}}.n{k}{{background:rgba(220,30,30,{k * 0.08:.2f})}}"
    for k in range(1, LEVELS + 1)
)


def _shade(value: float, scale: float) -> str:
    """The CSS class of a word: p1..p10 toward the class, n1..n10 away, "" for (near) nothing."""
    level = round(min(abs(value) / scale, 1.0) * LEVELS) if scale > 0 else 0
    return "" if level == 0 else f"{'p' if value >= 0 else 'n'}{level}"


def highlight(explanation: Explanation) -> str:
    """The text, escaped, with each word wrapped in a coloured span (title = its attribution)."""
    text, parts, cursor = explanation.text, [], 0
    scale = max((abs(a) for _, _, a in explanation.words), default=0.0)
    for start, end, attribution in explanation.words:
        parts.append(escape(text[cursor:start]))
        shade = _shade(attribution, scale)
        parts.append(
            f'<span{f" class={shade}" if shade else ""} title="{attribution:+.4f}">'
            f"{escape(text[start:end])}</span>"
        )
        cursor = end
    rest = text[cursor:]
    if explanation.read_chars < len(text.rstrip()):
        more = len(rest) - UNREAD_SHOWN
        shown = rest if more <= 0 else f"{rest[:UNREAD_SHOWN]}… ({more} more characters)"
        parts.append(f'<span class="unread">{escape(shown)}</span>')
    else:
        parts.append(escape(rest))
    return "".join(parts)


def _text_block(number: int, kind: str, actual: str, e: Explanation) -> str:
    wrong = e.predicted != actual
    verdict = (
        f'<span class="wrong">predicted {escape(e.predicted)}</span>'
        if wrong
        else f"predicted {escape(e.predicted)}"
    )
    meta = (
        f"#{number} · {escape(kind)} · true label <b>{escape(actual)}</b> · {verdict} · "
        f"score {e.score:.4f} · attributions toward <b>{escape(e.label)}</b> · "
        f"delta {e.delta:+.4f} · {e.tokens} tokens read"
    )
    return (
        f'<div class="text" id="t{number}"><div class="meta">{meta}</div>'
        f'<div class="body">{highlight(e)}</div></div>'
    )


def render(
    items: Sequence[tuple[str, str, Explanation]],
    summary: dict[str, Any],
    not_explained: Sequence[tuple[str, str]],
) -> str:
    """items: (kind, true label, explanation) in the order chosen; not_explained: (kind, true
    label) of the texts the budget left out."""
    counts, budget = summary["texts"], summary["budget"]
    limit = (
        "no budget set"
        if budget["token_steps"] is None
        else f"of a budget of {budget['token_steps']:,}"
    )
    intro = (
        f"<p>Integrated gradients ({summary['n_steps']} steps, captum) on the word embeddings of "
        f"the model, toward the predicted class. {counts['explained']} of {counts['selected']} "
        f"selected test texts explained ({counts['misclassified']} misclassified in the test "
        f"split; {budget['explained_token_steps']:,} token-steps, i.e. tokens read x steps, "
        f"{limit}). Green words pushed toward the class, red ones "
        "away; hover a word for its attribution. Grey text lies past the tokens the model reads. "
        "Delta is the integration error: the attributions sum to the logit's change from an "
        "all-[PAD] input, give or take delta.</p>"
    )
    rows = "".join(
        f"<tr><td>{escape(label)}</td><td>"
        + escape(", ".join(f"{w['word']} ({w['score']:+.3f})" for w in words) or "(too few texts)")
        + "</td></tr>"
        for label, words in summary["top_words"].items()
    )
    header = "top words (mean share of attribution in this class's texts minus in the others')"
    table = f"<table><tr><th>class</th><th>{header}</th></tr>{rows}</table>"
    blocks = "\n".join(
        _text_block(i, kind, actual, e) for i, (kind, actual, e) in enumerate(items, 1)
    )
    skipped = ""
    if not_explained:
        listed = ", ".join(f"{escape(kind)} ({escape(actual)})" for kind, actual in not_explained)
        skipped = (
            f"<h2>Not explained ({len(not_explained)}: over the budget)</h2><p>{listed}. Raise "
            f"explain.budget_token_steps to {budget['selected_token_steps']:,} (or lower "
            "explain.n_steps) to include them.</p>"
        )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Which words drove each prediction</title>"
        f"<style>{STYLE}</style></head><body>\n"
        f"<h1>Which words drove each prediction</h1>{intro}\n<h2>Top words per class</h2>{table}\n"
        f"<h2>Texts</h2>\n{blocks}\n{skipped}\n</body></html>\n"
    )
