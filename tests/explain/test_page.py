"""The HTML page: every explained text is there, escaped; words carry their attribution."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from fullcycle.explain import page
from fullcycle.explain.attribute import Explanation

SUMMARY = {
    "n_steps": 50,
    "texts": {"selected": 3, "explained": 2, "misclassified": 1},
    "budget": {
        "token_steps": 20_000,
        "explained_token_steps": 12_800,
        "selected_token_steps": 25_600,
    },
    "top_words": {
        "tech": [{"word": "<b>phone", "score": 0.15, "mean": 0.2, "texts": 2}],
        "sports": [],
    },
}


class Texts(HTMLParser):
    """What a browser shows in each text's body, and every tag it would build."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.bodies: list[str] = []
        self.tags: set[str] = set()
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if self._depth:
            self._depth += 1
        elif ("class", "body") in attrs:
            self._depth = 1
            self.bodies.append("")

    def handle_endtag(self, tag):
        if self._depth:
            self._depth -= 1

    def handle_data(self, data):
        if self._depth:
            self.bodies[-1] += data


def shown(html: str) -> Texts:
    parser = Texts()
    parser.feed(html)
    return parser


def explanation(text: str, label: str = "tech", predicted: str = "tech") -> Explanation:
    spans = [(m.start(), m.end()) for m in re.finditer(r"\w+|[^\w\s]", text)]
    words = [(s, e, (-1) ** k * 0.1 * (k + 1)) for k, (s, e) in enumerate(spans)]
    return Explanation(text, label, 0.9, predicted, 0.001, 1.0, len(words), len(text), words)


def test_script_in_a_text_renders_as_text():
    hostile = 'New phone <script>alert("x")</script> & <img src=x onerror=alert(1)> launched'
    html = page.render(
        [("misclassified", "sports", explanation(hostile)), ("most", "tech", explanation("ok"))],
        SUMMARY,
        [("least confident correct", "<i>tech")],
    )
    assert "<script>" not in html and "<img" not in html and "<i>tech" not in html
    seen = shown(html)
    assert seen.bodies == [hostile, "ok"]  # shown as the characters sent, nothing interpreted
    assert not seen.tags & {"script", "img", "i"}
    assert "&lt;b&gt;phone" in html  # top words are escaped too
    # the page is self-contained: no script, no external resource
    assert not re.search(r"<script|src=\"http|href=\"http|<link", html)


def test_every_explained_text_is_on_the_page_word_by_word():
    texts = ["Shares fell sharply.", "The striker scored twice!", 'A "quoted" <word>']
    html = page.render([("k", "tech", explanation(t)) for t in texts], SUMMARY, [])
    for text in texts:
        e = explanation(text)
        for start, end, attribution in e.words:
            word = text[start:end].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            word = word.replace('"', "&quot;")
            assert f'title="{attribution:+.4f}">{word}</span>' in html
    assert shown(html).bodies == texts


def test_misclassified_and_unread_text_are_marked():
    e = explanation("Shares fell")
    e.read_chars = 6  # the model read only "Shares"
    e.words = e.words[:1]
    html = page.render([("misclassified", "business", e)], SUMMARY, [])
    assert 'class="wrong"' in html and "true label <b>business</b>" in html
    assert '<span class="unread"> fell</span>' in html
    e.text = "Shares" + " fell" * 100
    html = page.render([("misclassified", "business", e)], SUMMARY, [])
    assert f" fell… ({500 - page.UNREAD_SHOWN} more characters)</span>" in html


def test_shades_are_signed_and_scaled_to_the_strongest_word():
    assert page._shade(0.5, 1.0) == "p5" and page._shade(-1.0, 1.0) == "n10"
    assert page._shade(0.01, 1.0) == "" and page._shade(0.0, 0.0) == ""
    assert ".p10{background:rgba(0,150,60,0.80)}" in page.STYLE


def test_texts_over_the_budget_are_listed_with_the_budget_that_fits_them():
    html = page.render([("k", "tech", explanation("ok"))], SUMMARY, [("misclassified", "tech")])
    assert "12,800 token-steps, i.e. tokens read x steps, of a budget of 20,000" in html
    assert "Not explained (1: over the budget)" in html
    assert "Raise explain.budget_token_steps to 25,600 (or lower explain.n_steps)" in html
    assert "<b>phone" not in html and "&lt;b&gt;phone (+0.150)" in html
    unlimited = {**SUMMARY, "budget": {**SUMMARY["budget"], "token_steps": None}}
    assert "token-steps, i.e. tokens read x steps, no budget set)" in page.render([], unlimited, [])
    # nothing on the page depends on the machine: no seconds, no speed
    assert not re.search(r"\d s\b|seconds|GFLOP", html)
