"""reports/model_card.md: what the model is, what it came from, how good it is, where it falls short.

Written for a reviewer who did not run it: numbers next to the baseline's, the data version (DVC's
hashes, which `dvc` commands resolve) and the limits that the metrics alone do not show. It is a
stage output committed to git, so it holds nothing its inputs do not determine: no timings and no
commit (the commit is the one that holds the card).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from omegaconf import OmegaConf

from fullcycle.core.evidence import Comparison
from fullcycle.core.explain_summary import card_section


def _num(x: Any, digits: int = 4) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _with_ci(scores: dict[str, Any], key: str) -> str:
    ci = scores.get(f"{key}_ci")
    value = _num(scores.get(key))
    return f"{value} ({ci[0]:.4f}–{ci[1]:.4f})" if ci else value


def _reading(meta: dict[str, Any]) -> str:
    """How much of a text the model reads (fullcycle.core.windows)."""
    n, windows = meta["max_length"], int(meta.get("windows", 1))
    if windows == 1:
        return f"It reads the first {n} tokens of a text."
    return (
        f"It reads a text in windows of {n} tokens, up to {windows} of them (the first "
        f"{n * windows} tokens), and averages their class probabilities; it was trained on "
        f"{_trained_window(meta)} of each text."
    )


def _trained_window(meta: dict[str, Any]) -> str:
    window = (meta.get("params") or {}).get("train", {}).get("window") or "first"
    return "one window drawn per epoch" if window == "random" else "the first window"


def _versus_baseline(
    test: dict[str, Any], baseline: dict[str, Any] | None, paired: Comparison | None
) -> str:
    base = (baseline or {}).get("test", {})
    rows = []
    for key, name in (("accuracy", "accuracy"), ("f1_macro", "macro-F1")):
        if paired is not None:
            d = paired[key]
            diff = f"{d.diff:+.4f} ({d.low:+.4f} to {d.high:+.4f})"
            said = d.verdict
        else:
            ours, theirs = test.get(key), base.get(key)
            diff = "n/a" if ours is None or theirs is None else f"{ours - theirs:+.4f}"
            said = "n/a (no paired predictions)"
        rows.append([name, _with_ci(test, key), _with_ci(base, key), diff, said])
    header = ["metric", "this model", "baseline (TF-IDF)", "difference (paired)", "verdict"]
    table = _table(header, rows)
    if not base:
        return (
            table
            + "\n\nNo baseline metrics found (reports/baseline/metrics.json): run `dvc repro`."
        )
    note = (
        "\n\nIn brackets: 95% intervals from a seeded bootstrap over the test texts; the "
        "difference's interval is paired (both models resampled on the same texts)."
    )
    if paired is not None:
        p = "n/a" if paired.p_value is None else f"{paired.p_value:.3g}"
        note += (
            f" Of {paired.rows} texts, {paired.b_only} are right only for this model and "
            f"{paired.a_only} only for the baseline (McNemar's exact test: p = {p})."
        )
    else:
        note += (
            " No paired comparison: the baseline's predictions on this test split are missing "
            "(reports/baseline/predictions.json): run `dvc repro`."
        )
    return table + note


def _data_lines(data: dict[str, Any], raw: dict[str, Any] | None) -> str:
    processed = data.get("processed_dir", "data/processed")
    lines = [
        f"- Data version: `{data.get('md5', 'unknown')}`, DVC's hash of `{processed}` "
        "(the `prepare` output in `dvc.lock`)"
    ]
    if raw:
        where = (
            f"`{raw['md5']}` in `{raw['dvc_file']}`"
            if raw.get("md5")
            else "not tracked by DVC (add it with `fullcycle data add`)"
        )
        lines.append(f"- Raw data: `{raw['path']}`, {where}")
    return "\n".join(lines)


def render(
    meta: dict[str, Any],
    metrics: dict[str, Any],
    size: dict[str, Any],
    per_class: dict[str, dict[str, Any]],
    confusion: list[list[int]],
    baseline: dict[str, Any] | None,
    raw: dict[str, Any] | None = None,
    paired: Comparison | None = None,
) -> str:
    """The model card (markdown), section by section."""
    test, labels = metrics["test"], list(meta["labels"])
    return f"""# Model card: {meta.get("base_model", "?")} fine-tuned to classify texts

{_what_it_is(meta, labels)}

{_data_and_code(meta.get("data", {}), raw, test)}

{_results(test, baseline, paired, per_class, confusion, labels)}

{card_section()}
{_size_and_parameters(size, meta)}

{_limits(meta, test)}
"""


def _what_it_is(meta: dict[str, Any], labels: list[str]) -> str:
    """The base model, how it was fine-tuned, its labels and how much of a text it reads."""
    return f"""## What it is
A transformers sequence classifier fine-tuned from `{meta.get("base_model", "?")}` by `fullcycle train`
({meta.get("epochs", "?")} epoch(s); the epoch with the best validation macro-F1,
{_num(meta.get("val_f1_macro"))}, was kept). It assigns each text one of {len(labels)} labels:
{", ".join(labels)}. {_reading(meta)}"""


def _data_and_code(data: dict[str, Any], raw: dict[str, Any] | None, test: dict[str, Any]) -> str:
    """The data version, the rows of each split, and how to get the code back."""
    rows = data.get("rows", {})
    return f"""## Data and code
{_data_lines(data, raw)}
- Rows: train {rows.get("train", "?")}, validation {rows.get("val", "?")}, test {test["rows"]}
- Code: the git commit that holds this card (`git log -1 -- reports/model_card.md`); to reproduce,
  check it out, then `dvc pull && dvc repro`"""


def _results(
    test: dict[str, Any],
    baseline: dict[str, Any] | None,
    paired: Comparison | None,
    per_class: dict[str, dict[str, Any]],
    confusion: list[list[int]],
    labels: list[str],
) -> str:
    """The test scores against the baseline's, then per class and the confusion matrix."""
    per_class_rows = [
        [label, *(_num(v[k]) for k in ("precision", "recall", "f1")), v["support"]]
        for label, v in per_class.items()
    ]
    matrix = [[labels[i], *row] for i, row in enumerate(confusion)]
    return f"""## Results on the test split
{_versus_baseline(test, baseline, paired)}

Per class:

{_table(["label", "precision", "recall", "F1", "support"], per_class_rows)}

Confusion matrix (rows: actual label, columns: predicted label):

{_table(["actual / predicted", *labels], matrix)}"""


def _size_and_parameters(size: dict[str, Any], meta: dict[str, Any]) -> str:
    """The model's size (its speed is measured apart) and the parameters it was trained with."""
    params = OmegaConf.to_yaml(OmegaConf.create(meta.get("params", {}))).rstrip()
    return f"""## Size and speed
- {size["parameters"]:,} parameters, {size["size_mb"]} MB of weights
- Speed depends on the machine, so it is measured apart: `python bench/model_latency.py`

## Training parameters
```yaml
{params}
```"""


def _limits(meta: dict[str, Any], test: dict[str, Any]) -> str:
    """What the metrics alone do not show: the labels it knows, the test's reach, what it ignores."""
    acc_ci = test.get("accuracy_ci") or [test["accuracy"], test["accuracy"]]
    return f"""## Limits
- It only knows the labels above: every text gets one of them, however unrelated it is. The score
  is a softmax probability, not a calibrated confidence; route low scores to a person.
- Tested on {test["rows"]} texts from the same source as its training data: its accuracy is
  somewhere in {acc_ci[0]:.4f}–{acc_ci[1]:.4f} (95% interval), and only for texts like these; a
  difference from another model smaller than that is not evidence until a paired comparison
  (`fullcycle exp diff`) says so.
- Text past the first {meta["max_length"] * int(meta.get("windows", 1))} tokens is ignored.
- Other languages, domains, writing styles and topics that drift over time are untested: watch
  production traffic with the drift report before trusting it there."""
