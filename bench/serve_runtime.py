"""Served speed of the two runtimes: torch fp32 vs ONNX Runtime on the optimize stage's variant.

One run, the same texts (the test split, each truncated to the model's max_length), both servers up
side by side (`bentoml serve` at the project root with FULLCYCLE_SERVE_RUNTIME=torch and =onnx),
measured in interleaved windows so that a shared machine's drifting load hits both alike:
  ceiling   the raw ORT forward in this process (OnnxClassifier.predict, batches of 32)
  32 clients  closed loop, one text per request: texts/s, p50/p95 latency (adaptive batching on)
  batch-1   one client, one text per request, sequential: p50/p95 latency
Targets (issue 11): onnx >= 2.5x torch texts/s; onnx batch-1 p50 <= 40% of torch's.
The machine may be shared: the load average is printed next to the figures; trust the ratios.

    python bench/serve_runtime.py [--model-dir models/classifier] [--optimized-dir models/optimized]
        [--data-dir data/processed] [--clients 32] [--seconds 10] [--rounds 2] [--threads N]
        [--no-batching]

--no-batching starts both servers with FULLCYCLE_BATCHING=false: each request is its own forward
pass. Batch-1 latency is then the model's plus HTTP's, without BentoML's adaptive batcher, which
after a burst of load makes a lone request wait for companions.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serve_load import load, summarise

from fullcycle.optimize.onnx_model import OnnxClassifier
from fullcycle.serve import launch

REPO = Path(__file__).resolve().parents[1]


def test_texts(processed_dir: Path, limit: int = 512) -> list[str]:
    split = processed_dir / "test.parquet"
    if split.is_file():
        import pandas as pd

        return pd.read_parquet(split)["text"].tolist()[:limit]
    from fullcycle.data.sources import read_bbc_news

    return list(read_bbc_news()["text"].sample(frac=1.0, random_state=0))[:limit]


def ceiling(model: OnnxClassifier, texts: list[str], seconds: float) -> float:
    model.predict(texts[:32])
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        batch = texts[done % len(texts) :][:32] or texts[:32]
        model.predict(batch, batch_size=32)
        done += len(batch)
    return done / (time.perf_counter() - start)


def single(url: str, texts: list[str], n: int) -> list[float]:
    """Sequential one-text requests from one client: seconds each."""
    times = []
    with httpx.Client(base_url=url, timeout=120) as client:
        client.post("/classify", json={"texts": [texts[0]]})
        for text in texts[:n]:
            start = time.perf_counter()
            response = client.post("/classify", json={"texts": [text]})
            times.append(time.perf_counter() - start)
            assert response.status_code == 200, response.text
    return times


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", default=str(REPO / "models" / "classifier"))
    parser.add_argument("--optimized-dir", default=str(REPO / "models" / "optimized"))
    parser.add_argument("--data-dir", default=str(REPO / "data" / "processed"))
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10, help="length of each window")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved measurement rounds")
    parser.add_argument("--single", type=int, default=24, help="batch-1 requests per round")
    parser.add_argument("--threads", type=int, help="OMP_NUM_THREADS for both servers")
    parser.add_argument(
        "--no-batching", action="store_true", help="FULLCYCLE_BATCHING=false for both servers"
    )
    args = parser.parse_args()
    model_dir, optimized_dir = Path(args.model_dir).resolve(), Path(args.optimized_dir).resolve()
    texts = test_texts(Path(args.data_dir))
    load_before = os.getloadavg()[0]
    print(f"load average before: {load_before:.1f} on {os.cpu_count()} cores (shared machine)")
    model = OnnxClassifier.load(optimized_dir, threads=args.threads)
    print(
        f"model {model_dir}, variant {model.variant} ({optimized_dir}); {args.clients} clients, "
        f"one text per request, {args.rounds} rounds of {args.seconds:.0f} s windows, "
        f"adaptive batching {'off' if args.no_batching else 'on'}"
    )
    runtimes = ("torch", "onnx")
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        urls = {}
        for name in runtimes:
            env = {
                "FULLCYCLE_SERVE_RUNTIME": name,
                "FULLCYCLE_MODEL_DIR": str(model_dir),
                "FULLCYCLE_OPTIMIZED_DIR": str(optimized_dir),
            }
            if args.threads:
                env["OMP_NUM_THREADS"] = str(args.threads)
            if args.no_batching:
                env["FULLCYCLE_BATCHING"] = "false"
            log = Path(tmp) / f"{name}.log"
            urls[name] = stack.enter_context(
                launch.serving(".", cwd=REPO, env=env, log_path=log)
            ).url
        ceilings: list[float] = []
        windows: dict[str, list[dict]] = {name: [] for name in runtimes}
        singles: dict[str, list[float]] = {name: [] for name in runtimes}
        for r in range(args.rounds):
            ceilings.append(ceiling(model, texts, args.seconds))
            for name in runtimes:
                windows[name].append(
                    asyncio.run(load(urls[name], texts, args.clients, args.seconds, r == 0))
                )
                singles[name] += single(urls[name], texts[r * args.single :], args.single)
            print(
                f"round {r + 1}: ceiling {ceilings[-1]:.1f} texts/s, "
                + ", ".join(
                    f"{n} {(len(w[-1]['latencies']) - w[-1]['errors']) / w[-1]['elapsed']:.1f}"
                    for n, w in windows.items()
                )
            )
    results = {name: summarise(windows[name]) for name in runtimes}
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print(
        f"\n| runtime | texts/s ({args.clients} clients) | p50 ms | p95 ms | batch-1 p50 ms | "
        "batch-1 p95 ms | errors |\n|---|---|---|---|---|---|---|"
    )
    print(f"| ORT forward (ceiling) | {statistics.median(ceilings):.1f} | | | | | |")
    for name in runtimes:
        r = results[name]
        print(
            f"| {name} | {r['texts_s']:.1f} | {r['p50']:.0f} | {r['p95']:.0f} | "
            f"{pct(singles[name], 50):.0f} | {pct(singles[name], 95):.0f} | {r['errors']} |"
        )
    ratio = results["onnx"]["texts_s"] / results["torch"]["texts_s"]
    latency = pct(singles["onnx"], 50) / pct(singles["torch"], 50)
    print(f"\nonnx / torch: {ratio:.2f}x texts/s; batch-1 p50 {latency:.0%} of torch's")
    checks = {
        f"onnx >= 2.5x torch texts/s ({ratio:.2f}x)": ratio >= 2.5,
        f"onnx batch-1 p50 <= 40% of torch's ({latency:.0%})": latency <= 0.4,
        "zero errors": all(results[n]["errors"] == 0 for n in runtimes),
    }
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
