"""What moved: the kind of drift, because a person acts differently on each.

- topic-mix shift: the texts look like training texts (no novelty: OOV words, embedding novelty
  and confidence are quiet) but the mix moved — the checks alarm on predicted-label shares, on the
  texts' form (one topic's length) or on which training-like texts come in. Old vs new shares shown.
  Usually: retrain with a reweighted or fresher sample, or just note it.
- new domain: texts unlike the training texts — many farther from every training text than training
  texts are from each other (embedding novelty), many more words training never used (unseen
  words, as a ratio of training's own), or the model much less confident. Label some, retrain.
- quality drop: labelled current texts are scored worse than the test split (accuracy_drop).
- replayed data: traffic *closer* to training than held-out texts are — many current texts
  are training texts verbatim (their unseen-word share falls, which the one-sided OOV check does not
  call drift). Nothing the model does wrong, but the other checks are diluted by it: find where the
  copies come from.
A kind is named only when the checks or evidence it rests on fired (`rests_on` in summary.json).
`monitor.kinds.fail_on` decides which kinds make `--fail-on-drift` exit 1 (default: new_domain and
quality_drop; a topic-mix shift only warns). Labels the model does not know are counted as unknown
labels, never scored as errors.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from omegaconf import DictConfig

from fullcycle.monitor.descriptors import Vocabulary
from fullcycle.monitor.inputs import Scored
from fullcycle.monitor.verdicts import Check

KINDS = ("topic_mix", "new_domain", "quality_drop", "replay")
# a current text is "novel" when less similar to training than 95% of training texts are
QUANTILE = 0.05


def _normalised(x: np.ndarray) -> np.ndarray:
    return x / np.clip(np.linalg.norm(x, axis=1, keepdims=True), 1e-12, None)


def nearest_similarity(queries: np.ndarray, keys: np.ndarray, exclude_self: bool) -> np.ndarray:
    """Each query's cosine similarity to its nearest key (itself excluded), in chunks."""
    q, k = _normalised(queries.astype(np.float32)), _normalised(keys.astype(np.float32))
    out = np.empty(len(q), dtype=np.float32)
    for start in range(0, len(q), 2048):
        sims = q[start : start + 2048] @ k.T
        if exclude_self:
            rows = np.arange(sims.shape[0])
            sims[rows, rows + start] = -np.inf
        out[start : start + 2048] = sims.max(axis=1)
    return out


def embedding_novelty(reference: Scored, current: Scored) -> dict[str, float]:
    """The share of current texts less similar to their nearest training text than all but 5% of
    training texts are to theirs (leave-one-out): about 0.05 for traffic like the training data."""
    ref = nearest_similarity(reference.embeddings, reference.embeddings, exclude_self=True)
    cutoff = float(np.quantile(ref, QUANTILE))
    cur = nearest_similarity(current.embeddings, reference.embeddings, exclude_self=False)
    return {"share": round(float((cur < cutoff).mean()), 4), "expected": QUANTILE}


def oov_ratio(reference: Scored, current: Scored) -> dict[str, float]:
    """Mean share of words training never used, current over reference (leave-one-out). Measured
    on BBC News: one held-out topic 0.7-1.5x, Python docstrings 5.4x. The OOV *check* is no help
    here: one topic's rarer names (sports, entertainment) already move its distribution."""
    vocabulary = Vocabulary(reference.texts.texts["text"])
    ref = float(vocabulary.oov_share(reference.texts.texts["text"], leave_one_out=True).mean())
    cur = float(vocabulary.oov_share(current.texts.texts["text"]).mean())
    return {
        "reference": round(ref, 3),
        "current": round(cur, 3),
        "ratio": round(cur / max(ref, 1e-6), 3),
    }


def training_copies(reference: Scored, current: Scored) -> dict[str, float]:
    """The share of current texts that are a training text verbatim (whitespace aside)."""
    seen = set(reference.texts.texts["text"].astype(str).str.split().str.join(" "))
    now = current.texts.texts["text"].astype(str).str.split().str.join(" ")
    return {"share": round(float(now.isin(seen).mean()) if len(now) else 0.0, 4)}


def label_shares(predicted: np.ndarray, labels: list[str]) -> dict[str, float]:
    values, counts = np.unique(predicted.astype(str), return_counts=True)
    found = dict(zip(values, counts, strict=True))
    return {
        label: round(float(found.get(label, 0)) / max(len(predicted), 1), 4) for label in labels
    }


def classify(
    reference: Scored,
    current: Scored,
    checks: list[Check],
    cfg: DictConfig,
    labels: list[str],
) -> dict[str, Any]:
    """The kinds of drift found, the evidence for each, and whether they fail the gate."""
    settings = cfg.get("kinds") or {}
    fail_on = set(settings.get("fail_on", ["new_domain", "quality_drop"]))
    drifted = {c.name for c in checks if c.drift}
    evidence, measured = _new_domain_evidence(reference, current, settings)
    copies = training_copies(reference, current)
    copies["threshold"] = float(settings.get("replay_share", 0.2))
    # verbatim copies only: fewer unseen words alone is no sign (one topic's texts have fewer)
    replay = ["training_copies"] if copies["share"] >= copies["threshold"] else []
    rests_on = {
        "quality_drop": sorted(drifted & {"accuracy_drop"}),
        "new_domain": [k for k, v in evidence.items() if v],
        "replay": replay,
    }
    # the mix moved: any check but accuracy fired, on texts that are not a new domain
    rests_on["topic_mix"] = [] if rests_on["new_domain"] else sorted(drifted - {"accuracy_drop"})
    found = {kind: bool(rests_on[kind]) for kind in KINDS}
    return {
        "found": {kind: bool(found[kind]) for kind in KINDS},
        "fails_gate": any(found[k] for k in KINDS if k in fail_on),
        "fail_on": sorted(fail_on),
        "rests_on": {kind: rests_on[kind] for kind in KINDS if found[kind]},
        "evidence": {
            "new_domain": {k: bool(v) for k, v in evidence.items()},
            **measured,
            "training_copies": copies,
        },
        "label_shares": {
            "reference": label_shares(reference.predicted, labels),
            "current": label_shares(current.predicted, labels),
        },
        "unknown_labels": _unknown_labels(current, labels),
    }


def _new_domain_evidence(
    reference: Scored, current: Scored, settings: DictConfig | dict[str, Any]
) -> tuple[dict[str, bool], dict[str, Any]]:
    """Whether the current texts are unlike training's by each sign of a new domain (embedding
    novelty, unseen words, a drop in confidence), and the measurements behind each."""
    novelty = embedding_novelty(reference, current)
    novelty["threshold"] = float(settings.get("novelty_share", 0.25))
    confidence = _mean_confidence(reference, current)
    drop_limit = float(settings.get("confidence_drop", 0.15))
    low_confidence = (
        confidence["current"] is not None
        and confidence["reference"] - confidence["current"] >= drop_limit
    )
    oov = oov_ratio(reference, current)
    oov["threshold"] = float(settings.get("oov_ratio", 2.0))
    evidence = {
        "embedding_novelty": novelty["share"] >= novelty["threshold"],
        "low_confidence": bool(low_confidence),
        "unseen_words": oov["ratio"] >= oov["threshold"],
    }
    measured = {
        "embedding_novelty": novelty,
        "unseen_words": oov,
        "confidence": confidence | {"drop_threshold": drop_limit},
    }
    return evidence, measured


def _mean_confidence(reference: Scored, current: Scored) -> dict[str, float | None]:
    """The mean confidence of the model on each side (None when it has none to give)."""
    if reference.confidence is None or current.confidence is None:
        return {"reference": None, "current": None}
    return {
        "reference": round(float(np.mean(reference.confidence)), 4),
        "current": round(float(np.mean(current.confidence)), 4),
    }


def _unknown_labels(current: Scored, labels: list[str]) -> dict[str, int]:
    """How many labelled current texts carry each label the model does not know."""
    unknown = current.texts.labelled["label"].astype(str)
    unknown = unknown[~unknown.isin(labels)].value_counts().sort_index()
    return {str(k): int(v) for k, v in unknown.items()}


NAMES = {
    "topic_mix": "topic-mix shift",
    "new_domain": "new domain",
    "quality_drop": "quality drop",
    "replay": "replayed data",
}


def describe(kinds: dict[str, Any]) -> list[str]:
    """Plain-text lines for the verdict (and the drift issue)."""
    lines = []
    for kind in KINDS:
        if not kinds["found"][kind]:
            continue
        gate = "fails the gate" if kind in kinds["fail_on"] else "warning only"
        lines.append(f"kind: {NAMES[kind]} ({gate}), from: {', '.join(kinds['rests_on'][kind])}")
        if kind == "new_domain":
            ev = kinds["evidence"]
            why = [k for k, v in ev["new_domain"].items() if v]
            nov, conf = ev["embedding_novelty"], ev["confidence"]
            lines.append(
                f"  evidence: {', '.join(why)}; novel texts {nov['share']:.0%} "
                f"(~{nov['expected']:.0%} expected), unseen words "
                f"{ev['unseen_words']['ratio']:.1f}x training's, mean confidence "
                f"{conf['reference']} -> {conf['current']}"
            )
        if kind == "topic_mix":
            old, new = kinds["label_shares"]["reference"], kinds["label_shares"]["current"]
            lines.append(
                "  predicted-label shares (training -> now): "
                + ", ".join(f"{k} {old[k]:.0%} -> {new[k]:.0%}" for k in old)
            )
        if kind == "replay":
            ev = kinds["evidence"]
            lines.append(
                "  traffic is closer to training than held-out texts are: "
                f"{ev['training_copies']['share']:.0%} of current texts are training texts "
                f"verbatim, unseen words {ev['unseen_words']['current']:.1f}% vs training's "
                f"{ev['unseen_words']['reference']:.1f}% (replayed or duplicated data?)"
            )
    if kinds["unknown_labels"]:
        lines.append(
            "unknown labels (not scored): "
            + ", ".join(f"{k} {v}" for k, v in kinds["unknown_labels"].items())
        )
    return lines
