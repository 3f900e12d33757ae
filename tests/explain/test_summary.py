"""Top words per class, the model card section and the promotion PR section."""

from __future__ import annotations

import json

from fullcycle.explain import select, summary


def test_top_words_rank_by_mean_share_and_need_min_count():
    explained = [
        ("sports", "", [("Cup", 3.0), ("the", 0.5), (",", 2.0), ("goal", 1.0)]),
        ("sports", "", [("cup", 1.0), ("goal", 2.0), ("the", -1.0)]),
        ("sports", "", [("rare", 9.0), ("x", -1.0)]),
        ("tech", "", [("phone", 1.0), ("2024", 5.0)]),
    ]
    top = summary.top_words(explained, ["sports", "tech"], top=5, min_count=2)
    assert [w["word"] for w in top["sports"]] == ["cup", "goal"]  # "rare" once, "," not a word
    cup = top["sports"][0]
    assert cup["texts"] == 2 and cup["mean"] == round((3 / 6.5 + 1 / 4) / 2, 4)
    assert top["tech"] == []  # one text only


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


def test_budget_keeps_a_prefix_by_estimate():
    count, estimated = select.within_budget([100, 100, 100, 10], 48, 10**9, 100.0, seconds=120)
    # 100 tokens x 50 steps x 1e9 flops / 100e9 flop/s = 50 s each; the 10-token text would fit
    # but comes after one that does not: the explained texts are always a prefix of the priorities
    assert (count, estimated) == (2, 100.0)
    assert select.within_budget([100] * 5, 48, 10**9, 100.0, seconds=None) == (5, 250.0)
