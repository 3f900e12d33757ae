"""Served speed of the two runtimes against their own forward pass on this CPU (issue 21).

One run, the same texts (the test split), both servers up side by side (`bentoml serve` at the
project root with FULLCYCLE_SERVE_RUNTIME=torch and =onnx), measured in interleaved windows so that
a shared machine's drifting load hits both alike:
  ceiling     each runtime's raw forward in this process (predict, batches of 32): texts/s
  raw batch-1 each runtime's raw forward of one text: p50
  32 clients  closed loop, one text per request: texts/s, p50/p95 latency
  batch-1     one client, one text per request, sequential, right after the burst: p50/p95
  idle batch-1  the same after the server has been idle for a few seconds
Targets (issue 21), each against this CPU's own ceiling:
  served batch-1 p50 <= 2x the raw forward's batch-1 p50, idle and right after a burst;
  32 clients: served texts/s >= 85% of the raw forward at batch 32, for both runtimes;
  onnx / torch served, reported next to onnx / torch raw (>= 2.2x on a CPU with VNNI/AMX).
The CPU model and its ISA flags are printed with the figures; the load average too.

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
from int8_ceiling import cpu
from serve_load import load, summarise

from fullcycle.core.classifier import Classifier
from fullcycle.optimize.onnx_model import OnnxClassifier
from fullcycle.serve import launch

REPO = Path(__file__).resolve().parents[1]


def test_texts(processed_dir: Path, limit: int = 512) -> list[str]:
    split = processed_dir / "test.parquet"
    if split.is_file():
        import pandas as pd

        return pd.read_parquet(split)["text"].tolist()[:limit]
    from fullcycle.core.sources import read_bbc_news

    return list(read_bbc_news()["text"].sample(frac=1.0, random_state=0))[:limit]


def raw_single(model, texts: list[str], n: int) -> list[float]:
    times = []
    for text in texts[:n]:
        start = time.perf_counter()
        model.predict([text], batch_size=32)
        times.append(time.perf_counter() - start)
    return times


def ceiling(model, texts: list[str], seconds: float) -> float:
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
    name, flags = cpu()
    print(f"CPU: {name}; int8 ISA flags: {' '.join(flags) or 'none (AVX2 or less)'}")
    models = {
        "torch": Classifier(model_dir),
        "onnx": OnnxClassifier.load(optimized_dir, threads=args.threads),
    }
    model = models["onnx"]
    print(
        f"model {model_dir}, variant {model.variant} ({optimized_dir}); {args.clients} clients, "
        f"one text per request, {args.rounds} rounds of {args.seconds:.0f} s windows, "
        f"batching {'off' if args.no_batching else 'on'}"
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
        ceilings: dict[str, list[float]] = {name: [] for name in runtimes}
        raw1: dict[str, list[float]] = {name: [] for name in runtimes}
        windows: dict[str, list[dict]] = {name: [] for name in runtimes}
        singles: dict[str, list[float]] = {name: [] for name in runtimes}
        idles: dict[str, list[float]] = {name: [] for name in runtimes}
        for r in range(args.rounds):
            part = texts[r * args.single :]
            for name in runtimes:
                ceilings[name].append(ceiling(models[name], texts, args.seconds))
                raw1[name] += raw_single(models[name], part, args.single)
            for name in runtimes:
                windows[name].append(
                    asyncio.run(load(urls[name], texts, args.clients, args.seconds, r == 0))
                )
                singles[name] += single(urls[name], part, args.single)  # right after the burst
                time.sleep(3)
                idles[name] += single(urls[name], part, args.single)
            print(
                f"round {r + 1}: ceiling "
                + ", ".join(f"{n} {c[-1]:.1f}" for n, c in ceilings.items())
                + " texts/s; served "
                + ", ".join(
                    f"{n} {(len(w[-1]['latencies']) - w[-1]['errors']) / w[-1]['elapsed']:.1f}"
                    for n, w in windows.items()
                )
            )
    results = {name: summarise(windows[name]) for name in runtimes}
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    rows, checks = [], {}
    for name in runtimes:
        r, top = results[name], statistics.median(ceilings[name])
        raw = pct(raw1[name], 50)
        after, idle = pct(singles[name], 50), pct(idles[name], 50)
        rows.append(
            f"| {name} | {top:.1f} | {r['texts_s']:.1f} ({r['texts_s'] / top:.0%}) | {r['p50']:.0f} "
            f"| {raw:.0f} | {after:.0f} ({after / raw:.1f}x) | {idle:.0f} ({idle / raw:.1f}x) "
            f"| {r['errors']} |"
        )
        checks[f"{name}: 32 clients >= 85% of its raw ceiling ({r['texts_s'] / top:.0%})"] = (
            r["texts_s"] >= 0.85 * top
        )
        checks[f"{name}: batch-1 p50 after a burst <= 2x raw ({after / raw:.1f}x)"] = (
            after <= 2 * raw
        )
        checks[f"{name}: batch-1 p50 idle <= 2x raw ({idle / raw:.1f}x)"] = idle <= 2 * raw
    print(
        f"\n| runtime | raw texts/s (batch 32) | served texts/s ({args.clients} clients, % of raw) "
        "| served p50 ms | raw batch-1 p50 ms | served batch-1 p50 after burst | idle "
        "| errors |\n|---|---|---|---|---|---|---|---|"
    )
    print("\n".join(rows))
    served = results["onnx"]["texts_s"] / results["torch"]["texts_s"]
    raw_ratio = statistics.median(ceilings["onnx"]) / statistics.median(ceilings["torch"])
    print(
        f"\nonnx / torch: served {served:.2f}x, raw forward {raw_ratio:.2f}x "
        f"(served keeps {served / raw_ratio:.0%} of the forward's gain)"
    )
    if "avx512_vnni" in flags or "amx_int8" in flags:
        checks[f"onnx >= 2.2x torch served, a CPU with VNNI/AMX ({served:.2f}x)"] = served >= 2.2
    checks["zero errors"] = all(results[n]["errors"] == 0 for n in runtimes)
    for label, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {label}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
