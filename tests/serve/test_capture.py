"""Masking personal data before capture, and the JSONL the monitor stage reads."""

from __future__ import annotations

import json

import pytest

from fullcycle.data.sources import read_table
from fullcycle.serve.capture import Recorder, mask


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("mail john.doe+news@mail.example.co.uk now", "mail <EMAIL> now"),
        ("card 4111 1111 1111 1111.", "card <CARD>."),
        ("card 4111-1111-1111-1111", "card <CARD>"),
        ("account 12345678901234567890", "account <CARD>"),
        ("call +44 20 7946 0958 today", "call <PHONE> today"),
        ("call (555) 123-4567", "call <PHONE>"),
        ("ring 555-1234 or 020 7946 0958", "ring <PHONE> or <PHONE>"),
        ("mobile 07700900123", "mobile <PHONE>"),
        ("+1-800-555-0199", "<PHONE>"),
    ],
)
def test_personal_data_is_masked(text, masked):
    assert mask(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "Profits rose 12% to £3.5bn in 2004.",
        "The 2004-2005 season ended 3-1.",
        "1,000,000 people voted; turnout was 61.4%.",
        "Version 1.2.3 shipped on 5 May.",
    ],
)
def test_ordinary_numbers_survive(text):
    assert mask(text) == text


def test_recorder_appends_masked_jsonl_that_read_table_accepts(tmp_path):
    path = tmp_path / "production" / "served.jsonl"
    recorder = Recorder(path, "v1")
    predictions = [{"label": "tech", "score": 0.9}, {"label": "sports", "score": 0.6}]
    recorder.record(["mail a@b.io", "odd\u2028line\u0085breaks"], predictions)
    recorder.record(["again"], predictions[:1])
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3 and all(line.isascii() for line in lines)
    assert json.loads(lines[0]) | {"time": None} == {
        "time": None, "text": "mail <EMAIL>", "predicted": "tech", "score": 0.9, "model": "v1"
    }  # fmt: skip
    table = read_table(path, label_optional=True)
    assert list(table["text"]) == ["mail <EMAIL>", "odd\u2028line\u0085breaks", "again"]
    assert table["label"].isna().all()  # predictions are never passed off as true labels
