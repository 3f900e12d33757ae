"""Integrated-gradients attributions toward the predicted class, merged from word pieces to words.

Decision: captum's `IntegratedGradients` over the model's *input embeddings* (`inputs_embeds`), with
a baseline that replaces every real token by [PAD] and keeps [CLS]/[SEP]. This is exactly what
`LayerIntegratedGradients` on `word_embeddings` computes (BERT adds the position and token-type
embeddings after the word embeddings, identically for input and baseline), but it registers no hook
on the model: the service shares one model between /classify and /explain threads, and a layer
hook would rewrite the embeddings of a concurrent /classify forward pass.

A model that reads a text in several windows (fullcycle.core.windows) predicts the mean of their
probabilities; the attributions are over the first window (the title and the lede, `read_chars`
says how far), toward the class the whole text is given, so /explain names the label /classify
answers.

Completeness: per text, sum(attributions) = logit_target(text) - logit_target(baseline) - delta,
where delta is captum's convergence delta (the integration error; more steps, smaller delta).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from captum.attr import IntegratedGradients

from fullcycle.core.classifier import Classifier

METHOD = "gausslegendre"  # converges in fewer steps than the Riemann rules


@dataclass
class Explanation:
    """One text's attributions toward `label` (the predicted class unless another was asked)."""

    text: str
    label: str  # the class explained
    score: float  # its probability
    predicted: str  # the model's prediction (== label unless a target was given)
    delta: float  # convergence delta: sum(attributions) - (logit(text) - logit(baseline))
    logit_diff: float  # logit(text) - logit(baseline) of `label`
    tokens: int  # word pieces the model read (specials excluded)
    read_chars: int  # the model read text[:read_chars]; the rest was truncated
    words: list[tuple[int, int, float]] = field(default_factory=list)  # (start, end, attribution)

    def word_list(self) -> list[dict[str, object]]:
        return [
            {"word": self.text[s:e], "start": s, "end": e, "attribution": a}
            for s, e, a in self.words
        ]


class Explainer:
    """Attributions with a loaded `Classifier` (the same object /classify uses)."""

    def __init__(
        self,
        model: Classifier,
        internal_batch_size: int = 16,
        before_chunk: Callable[[], None] | None = None,
    ) -> None:
        self.model = model
        self.internal_batch_size = internal_batch_size
        self.before_chunk = before_chunk  # called before each forward pass (the service's gate)
        for (
            parameter
        ) in model.model.parameters():  # gradients w.r.t. the input only: ~1/3 less work
            parameter.requires_grad_(False)
        self.embeddings = model.model.get_input_embeddings()
        self.ig = IntegratedGradients(self._forward)

    def _forward(self, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        if self.before_chunk is not None:
            self.before_chunk()
        out = self.model.model(inputs_embeds=inputs_embeds, attention_mask=attention_mask)
        return out.logits.float()

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        """Tokens the model reads of each text (specials included, truncated at max_length): the
        stage's budget counts these times the integration steps."""
        enc = self.model.tokenizer(list(texts), truncation=True, max_length=self.model.max_length)
        return [len(ids) for ids in enc["input_ids"]]

    def explain(
        self, texts: Sequence[str], n_steps: int, targets: Sequence[int] | None = None
    ) -> list[Explanation]:
        """Explain a batch of texts (padded to the longest), toward `targets` (class indices) or
        each text's predicted class."""
        tok = self.model.tokenizer
        enc = tok(
            list(texts),
            truncation=True,
            max_length=self.model.max_length,
            padding=True,
            return_tensors="pt",
            return_offsets_mapping=True,
            return_special_tokens_mask=True,
        )
        device = self.model.device
        ids, mask = enc["input_ids"].to(device), enc["attention_mask"].to(device)
        keep = enc["special_tokens_mask"].bool().to(device) | (mask == 0)
        baseline_ids = torch.where(keep, ids, torch.full_like(ids, tok.pad_token_id))
        with torch.no_grad():
            embeds, base = self.embeddings(ids), self.embeddings(baseline_ids)
            logits = self.model.model(inputs_embeds=embeds, attention_mask=mask).logits.float()
            base_logits = self.model.model(inputs_embeds=base, attention_mask=mask).logits.float()
        probs = logits.softmax(-1)
        if self.model.windows > 1:  # the whole text's prediction, not the first window's
            probs = self.model.probabilities(list(texts)).to(device)
        predicted = probs.argmax(-1)
        target = predicted if targets is None else torch.tensor(list(targets), device=device)
        attributions, delta = self.ig.attribute(
            embeds,
            baselines=base,
            target=target.tolist(),
            additional_forward_args=(mask,),
            n_steps=n_steps,
            method=METHOD,
            internal_batch_size=self.internal_batch_size,
            return_convergence_delta=True,
        )
        per_token = attributions.sum(-1).detach().cpu()
        rows = torch.arange(len(texts))
        diffs = (logits[rows, target] - base_logits[rows, target]).cpu()
        labels = self.model.labels
        results = []
        for i, text in enumerate(texts):
            words = _merge_words(enc.word_ids(i), enc["offset_mapping"][i].tolist(), per_token[i])
            t, p = int(target[i]), int(predicted[i])
            results.append(
                Explanation(
                    text=text,
                    label=labels[t],
                    score=float(probs[i, t]),
                    predicted=labels[p],
                    delta=float(delta[i]),
                    logit_diff=float(diffs[i]),
                    tokens=int((~keep[i]).sum()),
                    read_chars=words[-1][1] if words else 0,
                    words=words,
                )
            )
        return results


def _merge_words(
    word_ids: list[int | None], offsets: list[list[int]], attributions: torch.Tensor
) -> list[tuple[int, int, float]]:
    """Word pieces back into the tokenizer's words (punctuation is a word of its own): each word's
    character span in the original text and the sum of its pieces' attributions."""
    merged: dict[int, list] = {}
    for position, word in enumerate(word_ids):
        if word is None:  # [CLS], [SEP], padding
            continue
        start, end = offsets[position]
        value = float(attributions[position])
        if word in merged:
            merged[word][1] = max(merged[word][1], end)
            merged[word][2] += value
        else:
            merged[word] = [start, end, value]
    return [(s, e, a) for s, e, a in sorted(merged.values())]
