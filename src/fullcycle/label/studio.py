"""Label Studio's file formats, without Label Studio: import tasks and labelling config out,
JSON / JSON_MIN / CSV exports back in.

- tasks (import): `[{"data": {"text": ...}, "predictions": [{"model_version", "score", "result":
  [{"from_name": "label", "to_name": "text", "type": "choices", "value": {"choices": [L]}}]}]}]`
- labelling config: `<View><Text name="text" value="$text"/><Choices name="label" toName="text">`
- JSON export: the tasks with `annotations[].result[].value.choices` (the last annotation that was
  not cancelled wins); JSON_MIN: `[{"text": ..., "label": ...}]`; CSV: columns `text,label`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import pandas as pd

from fullcycle.core.errors import DataError, FullcycleError, Problem
from fullcycle.core.sources import read_table

FROM_NAME, TO_NAME = "label", "text"


def task(text: str, predicted: str, score: float, model: str, extra: dict[str, Any]) -> dict:
    return {
        "data": {"text": text, **extra},
        "predictions": [
            {
                "model_version": model,
                "score": round(float(score), 6),
                "result": [
                    {
                        "from_name": FROM_NAME,
                        "to_name": TO_NAME,
                        "type": "choices",
                        "value": {"choices": [predicted]},
                    }
                ],
            }
        ],
    }


def labelling_config(labels: list[str]) -> str:
    choices = "\n".join(f"    <Choice value={quoteattr(label)}/>" for label in labels)
    return (
        "<View>\n"
        f'  <Text name="{TO_NAME}" value="$text"/>\n'
        f'  <Choices name="{FROM_NAME}" toName="{TO_NAME}" choice="single" showInLine="true">\n'
        f"{choices}\n  </Choices>\n</View>\n"
    )


def read_labelled(path: str | Path) -> pd.DataFrame:
    """Columns text, label (raw), indexed by the 1-based record, from any of the three formats."""
    path = Path(path)
    if not path.is_file():
        raise FullcycleError(f"file not found: {path}")
    if path.suffix.lower() == ".csv":
        return read_table(path, "text", "label")
    if path.suffix.lower() != ".json":
        raise FullcycleError(
            f"{path}: unsupported file type '{path.suffix}'. Use a Label Studio JSON or JSON_MIN "
            "export (.json) or a CSV with columns text,label (.csv)."
        )
    try:
        records = json.loads(path.read_text(encoding="utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise FullcycleError(f"{path}: not valid JSON ({exc}).") from None
    if isinstance(records, dict):
        records = [records]
    if not isinstance(records, list) or not records:
        raise FullcycleError(f"{path}: expected a JSON list of labelled tasks, found none.")
    texts, labels, problems = [], [], []
    for row, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            problems.append(Problem(str(path), "not a JSON object", row))
            texts.append(None)
            labels.append(None)
            continue
        data = record.get("data") if isinstance(record.get("data"), dict) else record
        if TO_NAME not in data:
            problems.append(
                Problem(
                    str(path), f"no text field (keys: {', '.join(map(str, data))})", row, "text"
                )
            )
        texts.append(data.get(TO_NAME))
        labels.append(_label(record))
    if problems:
        raise DataError(
            problems[:20],
            total=len(problems),
            hint="Export from Label Studio as JSON or JSON_MIN with the labelling config that "
            "`fullcycle label export` wrote (a Text named 'text', Choices named 'label').",
        )
    index = pd.RangeIndex(1, len(texts) + 1, name="row")
    return pd.DataFrame({"text": texts, "label": labels}, index=index, dtype=object)


def _label(record: dict) -> str | None:
    """A JSON export's last completed annotation, or a JSON_MIN record's `label` field."""
    annotations = record.get("annotations")
    if isinstance(annotations, list):
        for annotation in reversed(annotations):
            if not isinstance(annotation, dict) or annotation.get("was_cancelled"):
                continue
            for result in annotation.get("result") or []:
                choices = (
                    (result.get("value") or {}).get("choices") if isinstance(result, dict) else None
                )
                if result.get("from_name", FROM_NAME) == FROM_NAME and choices:
                    return str(choices[0])
        return None
    value = record.get(FROM_NAME)
    if isinstance(value, dict):  # JSON_MIN of a multi-choice control: {"choices": [...]}
        value = (value.get("choices") or [None])[0]
    return value
