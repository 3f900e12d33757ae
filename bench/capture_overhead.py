"""What capture costs the service: served texts/s with capture on (bentoml.monitor file sink, masked
texts, rotation) vs off, same model, same texts, 32 concurrent clients sending one text each.
Both servers run side by side and are measured in interleaved windows, so the drifting load of
other tenants hits both alike. Target: capture on >= 0.95x capture off.

    python bench/capture_overhead.py [--clients 32] [--seconds 10] [--rounds 3] [--model-dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--model-dir")
    args = parser.parse_args()
    os.environ.update(HF_HUB_OFFLINE="1", BENTOML_DO_NOT_TRACK="true", DO_NOT_TRACK="1")
    from serve_load import load, minilm_model

    from fullcycle.core.sources import read_bbc_news
    from fullcycle.serve import launch
    from fullcycle.serve.capture import captured_files, read_rows

    texts = [t[:600] for t in read_bbc_news()["text"].tolist()]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = minilm_model(args.model_dir, tmp)
        servers, results = {}, {"off": [], "on": []}
        with (
            launch.serving(
                log_path=tmp / "off.log",
                cwd=ROOT,
                env={"FULLCYCLE_MODEL_DIR": str(model), "FULLCYCLE_CAPTURE": "0"},
            ) as off,
            launch.serving(
                log_path=tmp / "on.log",
                cwd=ROOT,
                env={
                    "FULLCYCLE_MODEL_DIR": str(model),
                    "FULLCYCLE_CAPTURE": "1",
                    "FULLCYCLE_CAPTURE_PATH": str(tmp / "captured"),
                },
            ) as on,
        ):
            servers = {"off": off, "on": on}
            for r in range(args.rounds):
                for name in ("off", "on") if r % 2 == 0 else ("on", "off"):
                    window = asyncio.run(
                        load(servers[name].url, texts, args.clients, args.seconds, warm=r == 0)
                    )
                    done = len(window["latencies"]) - window["errors"]
                    results[name].append(done / window["elapsed"])
                    print(f"round {r + 1} capture {name}: {results[name][-1]:.1f} texts/s")
        rows = sum(1 for f in captured_files(tmp / "captured") for _ in read_rows(f))
    off_s, on_s = statistics.median(results["off"]), statistics.median(results["on"])
    print(
        f"\ncapture off {off_s:.1f} texts/s, capture on {on_s:.1f} texts/s: "
        f"{on_s / off_s:.3f}x (target >= 0.95x); {rows} rows captured"
    )


if __name__ == "__main__":
    main()
