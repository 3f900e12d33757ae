"""Top words per class, the model card section and the promotion PR section."""

from __future__ import annotations

import json

from fullcycle.core import explain_summary as summary
from fullcycle.explain import select


def test_top_words_rank_by_share_and_need_min_count():
    explained = [
        ("sports", "", [("Cup", 3.0), ("the", 0.5), (",", 2.0), ("goal", 1.0)]),
        ("sports", "", [("cup", 1.0), ("goal", 2.0), ("the", -1.0)]),
        ("sports", "", [("rare", 9.0), ("x", -1.0)]),
        ("tech", "", [("phone", 1.0), ("2024", 5.0)]),
    ]
    top = summary.top_words(explained, ["sports", "tech"], top=5, min_count=2)
    assert [w["word"] for w in top["sports"]] == ["cup", "goal"]  # "rare" once, "," not a word
    cup = top["sports"][0]
    # shares of the whole text's attribution (stopwords and punctuation count in the total)
    assert cup["texts"] == 2 and cup["mean"] == round((3 / 6.5 + 1 / 4) / 2, 4)
    assert cup["score"] == cup["mean"]  # no other class has the word
    assert top["tech"] == []  # one text only


# Each text: the raw attributions put stopwords and fragments first, as on BBC with MiniLM.
STOPWORDY = [
    (
        "business",
        "",
        [
            ("the", 4.0),
            ("of", 3.0),
            ("a", 2.5),
            ("shares", 1.0),
            ("said", 0.9),
            ("##ing", 2.0),
            ("s", 2.0),
            ("'", 2.0),
            ("2004", 2.0),
            ("profit", 0.5),
        ],
    ),
    (
        "business",
        "",
        [
            ("The", 3.0),
            ("of", 3.5),
            ("a", 2.0),
            ("shares", 1.2),
            ("said", 0.8),
            ("profit", 0.6),
            ("in", 1.0),
        ],
    ),
    ("sports", "", [("the", 3.0), ("in", 2.0), ("said", 1.0), ("goal", 0.7), ("match", 0.6)]),
    ("sports", "", [("the", 2.0), ("for", 2.0), ("said", 1.2), ("goal", 0.9), ("match", 0.4)]),
]


def test_top_words_leave_out_stopwords_and_fragments():
    raw = summary.top_words(
        [(c, t, [(w.upper(), a) for w, a in ws]) for c, t, ws in STOPWORDY[:2]],
        ["business"],
        top=3,
        min_count=2,
    )
    assert [w["word"] for w in raw["business"]] == ["shares", "said", "profit"]
    # not "the, of, a" (stopwords: scikit-learn's list), nor "##ing", "s", "'" or "2004"
    assert not {"the", "of", "a", "##ing", "s", "'", "2004"} & {w["word"] for w in raw["business"]}


# Every text's attributions sum to 10: the shares are the numbers / 10.
DISTINCT = [
    ("business", "", [("the", 4.0), ("said", 2.0), ("shares", 2.0), ("profit", 0.5), ("of", 1.5)]),
    ("business", "", [("the", 4.0), ("said", 2.0), ("shares", 1.0), ("profit", 1.5), ("a", 1.5)]),
    ("sports", "", [("the", 4.0), ("said", 2.0), ("goal", 1.6), ("match", 1.0), ("in", 1.4)]),
    ("sports", "", [("the", 4.0), ("said", 2.4), ("goal", 1.2), ("match", 1.2), ("for", 1.2)]),
]


def test_top_words_rank_by_distinctiveness_against_other_classes():
    """ "said" has the largest share in every text: it says nothing about any one class."""
    top = summary.top_words(DISTINCT, ["business", "sports"], top=5, min_count=2)
    assert [w["word"] for w in top["business"]] == ["shares", "profit"]  # said: 0.20 - 0.22 < 0
    assert [w["word"] for w in top["sports"]] == ["goal", "match", "said"]
    said = top["sports"][-1]
    assert said["mean"] == 0.22 and said["score"] == 0.02  # the highest mean, the lowest score
    assert top["sports"][0] == {"word": "goal", "score": 0.14, "mean": 0.14, "texts": 2}


def test_pr_section_lists_new_and_gone_words():
    base = {"top_words": {"sports": [{"word": "cup"}, {"word": "goal"}], "tech": [{"word": "pc"}]}}
    cand = {
        "texts": {"explained": 20, "selected": 25},
        "top_words": {"sports": [{"word": "cup"}, {"word": "match"}], "tech": [{"word": "pc"}]},
    }
    md = summary.pr_section(base, cand, "main")
    assert "| sports | cup, match | match | goal |" in md
    assert "| tech | pc | — | — |" in md
    assert "20 of 25" in md
    assert "no explain summary" in summary.pr_section(None, cand, "main")
    assert "was not produced" in summary.pr_section(base, None, "main")
    assert summary.load("not json") is None and summary.load(json.dumps(cand)) == cand


def test_pr_body_carries_the_section():
    from fullcycle.lifecycle.experiments import Run
    from fullcycle.lifecycle.gate import Gate
    from fullcycle.lifecycle.promote import pr_body

    run = Run.__new__(Run)
    run.name, run.rev = "exp-1", "a" * 40
    gate = Gate("test.f1_macro", 0.9, 0.8, 0.7, 0.95)
    md = summary.pr_section(None, {"top_words": {"tech": [{"word": "pc"}]}}, "main")
    body = pr_body(run, gate, "main", "", "", None, md)
    assert "### Explanations (vs `main`)" in body and "| tech | pc |" in body
    assert "### Explanations" not in pr_body(run, gate, "main", "", "", None)


def test_card_section_links_the_page(tmp_path):
    path = tmp_path / "summary.json"
    assert "run `fullcycle explain`" in summary.card_section(path)
    path.write_text(
        json.dumps(
            {
                "n_steps": 50,
                "texts": {"explained": 3, "selected": 4},
                "top_words": {"tech": [{"word": "pc"}, {"word": "phone"}], "sports": []},
            }
        )
    )
    card = summary.card_section(path)
    assert "](explain/index.html)" in card and "| tech | pc, phone |" in card
    assert "3 of the 4" in card and "| sports | (too few texts) |" in card


def test_choose_orders_mistakes_then_extremes_per_class():
    labels = ["a", "b"]
    actual = ["a", "a", "a", "b", "b", "a"]
    predicted = ["a", "a", "b", "b", "b", "a"]
    scores = [0.9, 0.6, 0.7, 0.8, 0.95, 0.99]
    picks = select.choose(labels, actual, predicted, scores, per_class=1)
    assert [(p.row, p.kind) for p in picks] == [
        (2, select.MISCLASSIFIED),
        (5, select.MOST),
        (1, select.LEAST),
        (4, select.MOST),
        (3, select.LEAST),
    ]


def test_budget_keeps_a_prefix_in_token_steps():
    count, used = select.within_budget([100, 100, 100, 10], 50, budget=12_000)
    # 100 tokens x 50 steps = 5,000 each; the 10-token text would fit but comes after one that
    # does not: the explained texts are always a prefix of the priorities
    assert (count, used) == (2, 10_000)
    assert select.within_budget([100] * 5, 50, budget=None) == (5, 25_000)
    assert select.within_budget([100] * 5, 50, budget=25_000) == (5, 25_000)  # fits exactly
