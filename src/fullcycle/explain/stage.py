"""`fullcycle explain`: which words drove the model's predictions on the test texts worth a look.

Reads the `explain` section of params.yaml (conf/explain/default.yaml), models/classifier/ and the
test split; writes reports/explain/index.html (every explained text, words highlighted) and
reports/explain/summary.json (counts, the largest delta, top words per class), together or not at
all. It runs before `evaluate`, whose model card lists the top words (one stage owns each file).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig
from tqdm.auto import tqdm

from fullcycle.core import params
from fullcycle.core.classifier import DEFAULT_DIR, Classifier
from fullcycle.core.explain_summary import PAGE, SUMMARY, top_words
from fullcycle.core.io import atomic_path
from fullcycle.core.splits import read_split
from fullcycle.explain import page, select

if TYPE_CHECKING:
    from fullcycle.explain.attribute import Explainer, Explanation

PREDICT_BATCH = 32  # as evaluate scores the test split, so both see the same predictions


def run(cfg: DictConfig, model_dir: str | Path = DEFAULT_DIR) -> dict[str, Any]:
    """Explain the test texts worth a look (as many as the budget allows), write the page and the
    summary together, and return the summary."""
    from fullcycle.explain.attribute import Explainer

    conf = params.section(cfg, "explain")  # checked when params.yaml was loaded (core/schema.py)
    data = params.section(cfg, "data")
    model = Classifier(model_dir)
    test = read_split(data.processed_dir, "test", model.labels, labels_from=f"{model_dir}'s labels")
    texts, actual = test["text"].tolist(), test["label"].astype(str).tolist()

    probs = model.probabilities(texts, batch_size=PREDICT_BATCH)
    scores, best = probs.max(-1)
    predicted = [model.labels[i] for i in best.tolist()]
    picks = select.choose(model.labels, actual, predicted, scores.tolist(), int(conf.per_class))

    explainer = Explainer(model, internal_batch_size=int(conf.internal_batch_size))
    n_steps = int(conf.n_steps)
    budget = conf.budget_token_steps
    tokens = explainer.token_counts([texts[p.row] for p in picks])
    count, used = select.within_budget(tokens, n_steps, budget)
    chosen, left_out = picks[:count], picks[count:]

    started = time.perf_counter()
    explained = _explain(explainer, [texts[p.row] for p in chosen], tokens, n_steps, conf)
    took = time.perf_counter() - started
    if chosen and took > 0:  # on the console only: timings never go into the outputs
        print(
            f"explain: attributions took {took:.0f} s for {used:,} token-steps "
            f"(~{used / took:,.0f} token-steps/s on this machine)"
        )

    summary = _summary(conf, model.labels, picks, chosen, tokens, used, explained)
    items = [(p.kind, actual[p.row], e) for p, e in zip(chosen, explained, strict=True)]
    html = page.render(items, summary, [(p.kind, actual[p.row]) for p in left_out])
    with atomic_path(PAGE) as h, atomic_path(SUMMARY) as s:
        h.write_text(html, encoding="utf-8")
        s.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def _explain(
    explainer: Explainer, texts: list[str], tokens: list[int], n_steps: int, conf: DictConfig
) -> list[Explanation]:
    """Each of `texts` explained (`tokens[k]`: text k's token count), in the order given."""
    # batches of similar length pad little; results go back in priority order
    order = sorted(range(len(texts)), key=lambda k: (tokens[k], k))
    results: dict[int, Any] = {}
    size = int(conf.batch_size)
    with tqdm(total=len(texts), desc="explain", unit="text") as bar:
        for start in range(0, len(order), size):
            batch = order[start : start + size]
            done = explainer.explain([texts[k] for k in batch], n_steps)
            results.update(zip(batch, done, strict=True))
            bar.update(len(batch))
    return [results[k] for k in range(len(texts))]


def _summary(
    conf: DictConfig,
    labels: list[str],
    picks: list[select.Pick],
    chosen: list[select.Pick],
    tokens: list[int],
    used: int,
    explained: list[Explanation],
) -> dict[str, Any]:
    """reports/explain/summary.json: counts, the budget spent, the largest delta, top words."""
    n_steps = int(conf.n_steps)
    return {
        "method": "integrated gradients (captum) on the word embeddings, toward the predicted class",
        "n_steps": n_steps,
        "texts": {
            "selected": len(picks),
            "explained": len(chosen),
            "misclassified": sum(p.kind == select.MISCLASSIFIED for p in picks),
            "per_class": int(conf.per_class),
        },
        "budget": {  # token-steps: tokens read x n_steps (select.py)
            "token_steps": conf.budget_token_steps,
            "explained_token_steps": used,
            "selected_token_steps": sum(tokens) * n_steps,
        },
        "max_abs_delta": round(max((abs(e.delta) for e in explained), default=0.0), 4),
        "top_words": top_words(
            [(e.label, e.text, [(e.text[s:t], a) for s, t, a in e.words]) for e in explained],
            labels,
            int(conf.top_words),
            int(conf.min_count),
        ),
    }


def cli_explain() -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    summary = run(params.load())
    counts, budget = summary["texts"], summary["budget"]
    limit = "no limit" if budget["token_steps"] is None else f"{budget['token_steps']:,}"
    print(
        f"explain: {counts['explained']} of {counts['selected']} selected test texts explained "
        f"({budget['explained_token_steps']:,} token-steps, budget {limit}; "
        f"largest |delta| {summary['max_abs_delta']}); wrote {PAGE}, {SUMMARY}"
    )
