"""How `fullcycle traffic snapshot` and `fullcycle label export` scale: N captured rows (default
100k, short news-like texts with their predictions, written in the capture sink's own JSON-lines
format) in a sandbox project (git, bare origin, local DVC remote), then, each through the real CLI:
  snapshot  captured rows -> one Parquet batch, dvc add, dvc push, git commit   (target <= 20 s)
  export    the batch (N versioned rows) -> Label Studio tasks + config + CSV  (target <= 60 s)
next to a bare `dvc add` of the same batch, one of the steps snapshot contains.
The machine may be shared: figures are noisy.

    python bench/traffic_scale.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent


def timed(cwd: Path, *cmd: str) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")
    print(done.stdout.strip().splitlines()[-1])
    return took


def capture(folder: Path, rows: int) -> None:
    """rows captured lines, as the bentoml.monitor file sink writes them."""
    from fullcycle.core.sources import read_bbc_news

    sentences = [s for t in read_bbc_news()["text"] for s in t.split(". ")[1:6] if len(s) > 30]
    labels = ["business", "entertainment", "politics", "sports", "tech"]
    start = datetime.now(UTC) - timedelta(hours=1)
    folder.mkdir(parents=True)
    with open(folder / "data.0.log", "w", encoding="utf-8") as out:
        for i in range(rows):
            row = {
                "text": f"{sentences[i % len(sentences)]} ({i})",
                "predicted": labels[i % 5],
                "score": round(0.2 + (i * 7919 % 800) / 1000, 6),
                "model": "v1",
                "time": (start + timedelta(milliseconds=i * 10)).isoformat(timespec="microseconds"),
                "timestamp": "",
                "request_id": str(i // 4),
                "trace_id": "0",
            }
            out.write(json.dumps(row) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    os.environ.update(
        DVC_NO_ANALYTICS="1",
        HF_HUB_OFFLINE="1",
        GIT_AUTHOR_NAME="bench",
        GIT_AUTHOR_EMAIL="b@b",
        GIT_COMMITTER_NAME="bench",
        GIT_COMMITTER_EMAIL="b@b",
        PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}",
    )
    from tests.lifecycle.conftest import make_sandbox

    with tempfile.TemporaryDirectory() as tmp:
        box = make_sandbox(Path(tmp) / "sandbox")
        root = box.root
        capture(root / "data/captured/fullcycle_traffic/data", args.rows)
        snapshot = timed(root, "fullcycle", "traffic", "snapshot")
        [batch] = (root / "data/production").glob("*.parquet")
        copy = root / "bench.parquet"
        copy.write_bytes(batch.read_bytes())
        start = time.perf_counter()
        subprocess.run(["dvc", "add", "-q", str(copy)], cwd=root, check=True)
        dvc_add = time.perf_counter() - start
        export = timed(root, "fullcycle", "label", "export", "--n", "500")
        print(
            f"\n{args.rows:,} rows: traffic snapshot {snapshot:.1f}s (target <= 20 s; a bare "
            f"`dvc add` of the batch {dvc_add:.1f}s), label export {export:.1f}s (target <= 60 s)"
        )


if __name__ == "__main__":
    main()
