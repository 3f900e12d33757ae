"""Capture of served traffic for monitoring: masked texts and predictions, appended as JSONL.

The monitor stage reads the file with `fullcycle.data.sources.read_table(path, label_optional=True)`:
each line has `text` (masked) and the prediction in `predicted` — never in `label`, which means a
true label everywhere else in fullcycle. Personal data is masked before anything reaches the disk:
emails, card-like digit runs (13 or more digits), then phone numbers. Masking errs towards masking: a
list of years may lose its digits, a card number never survives.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# 13 or more digits, optionally grouped by single spaces or dashes (card and account numbers)
CARD = re.compile(r"(?<![\w.])\d(?:[ -]?\d){12,}(?![\w])")
# digit groups joined by spaces, dots or dashes, optionally after +CC and (area): judged by _phone
PHONE = re.compile(
    r"(?<![\w.])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?\d{2,}(?:[ .-]\d{2,}){0,5}(?![\w])"
)
MASKS = {"email": "<EMAIL>", "card": "<CARD>", "phone": "<PHONE>"}


def _phone(match: re.Match[str]) -> str:
    """A phone number, not a year or an amount: 7-15 digits, and written like a phone number
    (international prefix, area code in brackets, a leading 0, three or more groups, 3+4 digits
    as in 555-1234, or a 10+ digit run)."""
    raw = match.group(0)
    digits = sum(ch.isdigit() for ch in raw)
    groups = len(re.findall(r"\d+", raw))
    local = re.fullmatch(r"\d{3}[ .-]\d{4}", raw) is not None
    phone_like = raw[0] in "+(0" or groups >= 3 or digits >= 10 or local
    return MASKS["phone"] if 7 <= digits <= 15 and phone_like else raw


def mask(text: str) -> str:
    """The text with emails, card-like numbers and phone numbers replaced by placeholders."""
    text = EMAIL.sub(MASKS["email"], text)
    text = CARD.sub(MASKS["card"], text)
    return PHONE.sub(_phone, text)


class Recorder:
    """Appends one JSON line per served text. Each batch is one O_APPEND write, so lines from
    several workers never interleave; a failed write is reported, never fails the request."""

    def __init__(self, path: str | os.PathLike[str], model_version: str) -> None:
        self.path = Path(path)
        self.model_version = model_version
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def record(self, texts: Sequence[str], predictions: Sequence[dict[str, Any]]) -> None:
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        lines = "".join(
            json.dumps(
                {
                    "time": now,
                    "text": mask(text),
                    "predicted": pred["label"],
                    "score": round(float(pred["score"]), 6),
                    "model": self.model_version,
                },
                ensure_ascii=True,  # pure-ASCII lines: no reader can split one at U+2028 or U+0085
            )
            + "\n"
            for text, pred in zip(texts, predictions, strict=True)
        ).encode("utf-8")
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                while lines:  # a regular file takes it all at once unless the disk is full
                    lines = lines[os.write(fd, lines) :]
            finally:
                os.close(fd)
