"""Top words per class from explained texts: reports/explain/summary.json, and the two places that
show it to a person: the model card's section and the promotion PR's "what changed" section.

Light imports only (no torch): the evaluate and promote commands import this module.

A word's weight in one text is its attribution divided by the sum of the absolute attributions in
that text (texts of any length weigh alike). A class's top words are the most distinctive ones: the
mean weight over the explained texts predicted as that class (where the word appears, in at least
`min_count` of them) minus its mean weight in the other classes' explained texts (0 where it appears
in none). Words that push toward every prediction alike ("said", "year") then score near 0, and a
word must push toward its class (a positive mean and score) to be listed. Words are lower-cased;
stopwords (scikit-learn's English list), single characters, word pieces ("##ing") and tokens
without a letter (punctuation, numbers) are not words here: they carry attribution in every class
and would crowd out the content words.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from fullcycle.core import paths

SUMMARY = paths.EXPLAIN_SUMMARY
PAGE = paths.EXPLAIN_PAGE


def _is_word(word: str, stopwords: frozenset[str]) -> bool:
    """A content word: two characters or more, a letter among them, not a word piece or stopword."""
    return (
        len(word) >= 2
        and not word.startswith("##")
        and any(c.isalpha() for c in word)
        and word not in stopwords
    )


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def top_words(
    explained: Iterable[tuple[str, str, Sequence[tuple[str, float]]]],
    labels: Sequence[str],
    top: int,
    min_count: int,
) -> dict[str, list[dict[str, Any]]]:
    """explained: (class explained, text, [(word, attribution), ...]) per text."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS  # here: 1 s to import

    weights: dict[str, dict[str, list[float]]] = {label: defaultdict(list) for label in labels}
    for label, _, words in explained:
        total = sum(abs(a) for _, a in words) or 1.0  # every token counts toward the share
        per_text: dict[str, float] = defaultdict(float)
        for word, attribution in words:
            word = word.strip().lower()
            if _is_word(word, ENGLISH_STOP_WORDS):
                per_text[word] += attribution / total
        for word, weight in per_text.items():
            weights[label][word].append(weight)
    result = {}
    for label in labels:
        ranked = []
        for word, here in weights[label].items():
            if len(here) < min_count:
                continue
            mean = _mean(here)
            others = [w for other in labels if other != label for w in weights[other].get(word, ())]
            score = mean - _mean(others)
            if mean > 0 and score > 0:
                ranked.append((score, mean, len(here), word))
        ranked.sort(key=lambda r: (-round(r[0], 6), r[3]))  # rounded: ties broken by the word
        result[label] = [
            {"word": w, "score": round(s, 4), "mean": round(m, 4), "texts": n}
            for s, m, n, w in ranked[:top]
        ]
    return result


def _words(summary: dict[str, Any] | None, label: str) -> list[str]:
    return [w["word"] for w in ((summary or {}).get("top_words", {}).get(label) or [])]


def card_section(path: str | Path = SUMMARY) -> str:
    """The model card's "Which words drive the predictions" section (from summary.json)."""
    path = Path(path)
    title = "## Which words drive the predictions\n"
    if not path.is_file():
        return f"{title}\nNo explanations yet: run `fullcycle explain` (or `dvc repro`).\n"
    summary = json.loads(path.read_text(encoding="utf-8"))
    counts = summary["texts"]
    lines = [
        title,
        f"Integrated gradients ({summary['n_steps']} steps) on {counts['explained']} of the "
        f"{counts['selected']} test texts worth a look (every misclassified one, then the most "
        f"and least confident correct ones per class); each highlighted word by word in "
        f"[{PAGE.relative_to('reports')}]({PAGE.relative_to('reports')}). The words with the "
        "largest share of attribution toward each predicted class, less their share in the other "
        "classes' texts (stopwords left out):",
        "",
        "| class | top words |",
        "|---|---|",
    ]
    for label, words in summary["top_words"].items():
        lines.append(f"| {label} | {', '.join(w['word'] for w in words) or '(too few texts)'} |")
    return "\n".join(lines) + "\n"


def load(text: str | None) -> dict[str, Any] | None:
    """A summary.json's text (e.g. read from a git revision) as a dict; None if absent or bad."""
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) and isinstance(data.get("top_words"), dict) else None


def pr_section(
    base: dict[str, Any] | None, candidate: dict[str, Any] | None, base_name: str
) -> str:
    """Markdown for the promotion PR: per class, the candidate's top words, and which are new or
    gone compared with `base_name`'s explain summary."""
    title = f"### Explanations (vs `{base_name}`)\n\n"
    if candidate is None:
        return title + f"_No explain summary: {SUMMARY} was not produced by this experiment._\n"
    labels = list(candidate.get("top_words", {}))
    for label in (base or {}).get("top_words", {}):
        if label not in labels:
            labels.append(label)
    rows = ["| class | top words | new | gone |", "|---|---|---|---|"]
    for label in labels:
        now, before = _words(candidate, label), _words(base, label)
        new = [w for w in now if w not in before] if base else []
        gone = [w for w in before if w not in now]
        rows.append(
            f"| {label} | {', '.join(now) or '—'} | {', '.join(new) or '—'} "
            f"| {', '.join(gone) or '—'} |"
        )
    note = (
        f"_`{base_name}` has no explain summary: nothing to compare with._\n\n"
        if base is None
        else ""
    )
    counts = candidate.get("texts", {})
    tail = (
        f"\n\n{counts.get('explained', '?')} of {counts.get('selected', '?')} selected test texts "
        f"explained; the page with every text highlighted is `{PAGE}` on the branch (a DVC output)."
    )
    return title + note + "\n".join(rows) + tail + "\n"
