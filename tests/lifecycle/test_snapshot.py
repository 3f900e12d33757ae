"""`fullcycle traffic snapshot`: captured rows -> one DVC-tracked batch, committed and pushed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from fullcycle.cli import main
from fullcycle.lifecycle import records, snapshot
from fullcycle.serve.capture import Capture
from fullcycle.serve.pii import mask_pii as mask


def capture(capture_dir: Path, texts: list[str], label: str = "tech", model: str = "v1") -> None:
    """Rows written the way the service writes them: through bentoml.monitor."""
    traffic = Capture(capture_dir, model, mask)
    preds = [{"label": label, "score": 0.5 + i / (2 * len(texts))} for i in range(len(texts))]
    traffic.record(texts, preds)
    assert traffic.errors == 0


class Clock:
    """The snapshot's clock: the real one until stopped; `settle()` moves it on instead of
    sleeping."""

    def __init__(self) -> None:
        self.at: datetime | None = None

    def __call__(self) -> datetime:
        return self.at or datetime.now(UTC)

    def stop(self) -> None:
        self.at = datetime.now(UTC)

    def settle(self) -> None:
        """As if SETTLE_S went by: rows younger than it wait for the next snapshot."""
        self.at = self() + timedelta(seconds=snapshot.SETTLE_S + 0.1)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(snapshot, "utc_now", clock)
    return clock


def test_snapshot_versions_new_rows_once(bare, capsys, clock):
    root = bare.root
    capture(root / "data/captured", [f"text {i} mail me at a{i}@b.io" for i in range(5)])
    clock.settle()
    assert main(["traffic", "snapshot"]) == 0
    out = capsys.readouterr().out
    assert "traffic: " in out and "5 rows" in out and "model v1" in out
    assert "pushed to DVC remote 'store'" in out
    [batch] = sorted((root / "data/production").glob("*.parquet"))
    assert (root / f"data/production/{batch.name}.dvc").is_file()
    frame = pd.read_parquet(batch)
    assert len(frame) == 5 and frame["text"].str.contains("<EMAIL>").all()
    message = bare.git("log", "-1", "--format=%B")
    fields = records.trailer(records.TRAFFIC, message)
    assert fields["rows"] == "5" and fields["models"] == "v1" and fields["start"] <= fields["to"]
    assert bare.git("status", "--porcelain", "--untracked-files=no") == ""
    assert list((root.parent / "dvc-remote").rglob("*")), "the batch was pushed to the DVC remote"

    # twice with no new traffic: exit 0, says so, nothing written
    head = bare.git("rev-parse", "HEAD")
    assert main(["traffic", "snapshot"]) == 0
    assert "nothing new" in capsys.readouterr().out
    assert bare.git("rev-parse", "HEAD") == head

    # new rows: only they go into the next batch
    capture(root / "data/captured", ["another text", "and one more"], label="sports", model="v2")
    clock.stop()
    assert main(["traffic", "snapshot"]) == 0  # younger than SETTLE_S: they wait
    assert "nothing new" in capsys.readouterr().out
    clock.settle()
    assert main(["traffic", "snapshot"]) == 0
    batches = sorted((root / "data/production").glob("*.parquet"))
    assert len(batches) == 2
    newest = pd.read_parquet(batches[-1])
    assert list(newest["text"]) == ["another text", "and one more"]
    assert set(newest["model"]) == {"v2"}
    capsys.readouterr()

    # fullcycle history lists both snapshots
    assert main(["history"]) == 0
    table = capsys.readouterr().out
    assert [line.split()[2] for line in table.splitlines()[2:]] == ["traffic", "traffic"]
    assert f"data/production/{batches[-1].name}: 2 rows" in table and "model v2" in table


def test_empty_capture_is_an_error_that_changes_nothing(bare, capsys):
    head = bare.git("rev-parse", "HEAD")
    assert main(["traffic", "snapshot"]) == 2
    err = capsys.readouterr().err
    assert "no captured traffic in data/captured/" in err and "Nothing was written" in err
    (bare.root / "data/captured/fullcycle_traffic/data").mkdir(parents=True)
    (bare.root / "data/captured/fullcycle_traffic/data/data.0.log").write_text("")
    assert main(["traffic", "snapshot"]) == 2
    assert bare.git("rev-parse", "HEAD") == head
    assert not list((bare.root / "data/production").glob("*.parquet"))
