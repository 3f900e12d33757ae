"""The capture file: masked JSONL the monitor stage reads, rotated at a size cap (the masking
itself: test_pii.py)."""

from __future__ import annotations

import json

from fullcycle.data.sources import read_table
from fullcycle.serve.capture import Recorder


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


def test_capture_rotates_at_its_size_cap_and_keeps_a_few_files(tmp_path):
    path = tmp_path / "served.jsonl"
    recorder = Recorder(path, "v1", max_bytes=1000, keep=2)
    prediction = [{"label": "tech", "score": 0.5}]
    for i in range(40):  # ~130 bytes a line: about 7 lines a file
        recorder.record([f"text number {i:02d}, mail me at x{i}@example.org"], prediction)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["served.1.jsonl", "served.2.jsonl", "served.jsonl"]
    assert all(p.stat().st_size <= 1000 for p in tmp_path.iterdir())
    newest = [json.loads(line)["text"] for line in path.read_text().splitlines()]
    assert newest[-1] == "text number 39, mail me at <EMAIL>"
    older = [json.loads(x)["text"] for x in recorder.rotated(1).read_text().splitlines()]
    assert older[-1] == newest[0].replace(newest[0][12:14], f"{int(newest[0][12:14]) - 1:02d}")
    # every kept file is *.jsonl: the monitor reads them all, the deleted ones are the oldest
    kept = [
        json.loads(x)["text"][:14]
        for p in sorted(tmp_path.glob("*.jsonl"))
        for x in p.read_text().splitlines()
    ]
    assert "text number 39" in kept and "text number 00" not in kept
