"""POST /explain on the served MiniLM model: its latency, and what it costs /classify.

Against one `bentoml serve` of the project (from source, the shipped settings):
  1. /explain p50: N texts one after another, each a BBC article (longer than the model reads, so
     every one is a full max_length-token text), the default steps (serve.explain_steps); the
     convergence delta of each answer is reported with it.
  2. /classify throughput, one text per request from C concurrent clients for T seconds, alone
     and while one /explain request is always in flight (a client sending them back to back);
     windows interleaved (alone, with, alone, with, ...) so that the drifting load of other
     tenants hits both alike. The ratio is the figure: with / alone.
  0. In this process, interleaved: one explanation (one text, the same steps) against one
     `predict()` of 32 texts: a ratio that carries over to an idle machine better than a time
     measured on a busy one (--ratio-rounds 0 skips it).
Targets (issue 14): /explain p50 <= 3 s; /classify with one /explain in flight >= 0.7x alone.
The machine may be shared: figures are noisy, rerun before trusting a small difference.

    python bench/explain_load.py [--model-dir DIR] [--requests 9] [--clients 16] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from fullcycle.core.sources import read_bbc_news
from fullcycle.serve import launch
from fullcycle.serve import settings as serve_settings

REPO = Path(__file__).resolve().parents[1]


def in_process_ratio(model_dir: str, texts: list[str], steps: int, rounds: int) -> None:
    from fullcycle.core.classifier import Classifier
    from fullcycle.explain.attribute import Explainer
    from fullcycle.explain.serving import CHUNK

    model = Classifier(model_dir, device="cpu")
    explainer = Explainer(model, internal_batch_size=CHUNK)  # as the service runs it
    model.predict(texts[:32])
    explainer.explain(texts[:1], 2)
    predicts, explains = [], []
    for r in range(rounds):
        start = time.perf_counter()
        model.predict(texts[32:64], batch_size=32)
        predicts.append(time.perf_counter() - start)
        start = time.perf_counter()
        explainer.explain([texts[64 + r]], steps)
        explains.append(time.perf_counter() - start)
    p, e = statistics.median(predicts), statistics.median(explains)
    print(
        f"in process: predict() of 32 texts {p:.2f} s ({32 / p:.1f} texts/s), one explanation "
        f"at {steps} steps {e:.2f} s = {e / p:.2f}x; at 60 texts/s (an idle 2-core CPU, "
        f"all-MiniLM-L6-v2 at 128 tokens) that is {e / p * 32 / 60:.2f} s"
    )


def explain_latency(url: str, texts: list[str], steps: int | None) -> list[dict]:
    rows = []
    with httpx.Client(base_url=url, timeout=300) as client:
        for text in texts:
            body = {"text": text} | ({"n_steps": steps} if steps else {})
            start = time.perf_counter()
            response = client.post("/explain", json=body)
            seconds = time.perf_counter() - start
            response.raise_for_status()
            answer = response.json()
            rows.append({"s": seconds, "delta": answer["delta"], "words": len(answer["words"])})
    return rows


async def classify_window(
    url: str, texts: list[str], clients: int, seconds: float, with_explain: bool
) -> dict:
    done, errors, explains, finished = 0, 0, [], []
    limits = httpx.Limits(max_connections=clients + 2, max_keepalive_connections=clients + 2)
    async with httpx.AsyncClient(base_url=url, timeout=300, limits=limits) as client:
        stop = time.perf_counter() + seconds

        async def classify(k: int) -> None:
            nonlocal done, errors
            i = k
            while time.perf_counter() < stop:
                response = await client.post("/classify", json={"texts": [texts[i % len(texts)]]})
                if response.status_code == 200:
                    done += 1
                else:
                    errors += 1
                i += clients
            finished.append(time.perf_counter())

        async def explain() -> None:
            i = 0
            while time.perf_counter() < stop:
                start = time.perf_counter()
                response = await client.post("/explain", json={"text": texts[-1 - i % 50]})
                response.raise_for_status()
                explains.append(time.perf_counter() - start)
                i += 1

        start = time.perf_counter()
        tasks = [classify(k) for k in range(clients)] + ([explain()] if with_explain else [])
        await asyncio.gather(*tasks)
        elapsed = max(finished) - start  # /classify's own span: not the last explanation's tail
    return {"texts_s": done / elapsed, "errors": errors, "explains": explains}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", default=str(REPO / "models" / "classifier"))
    parser.add_argument("--requests", type=int, default=9, help="/explain requests for the p50")
    parser.add_argument("--steps", type=int, help="n_steps to ask for (default: the server's)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10, help="length of each window")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved pairs of windows")
    parser.add_argument("--ratio-rounds", type=int, default=3, help="in-process rounds (0: skip)")
    parser.add_argument("--torch-threads", type=int, help="OMP_NUM_THREADS for the server")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared)")
    texts = list(read_bbc_news()["text"].sample(frac=1.0, random_state=0))[:512]
    if args.ratio_rounds:
        steps = args.steps or int(serve_settings.load().explain_steps)
        in_process_ratio(args.model_dir, texts, steps, args.ratio_rounds)
    env = {"FULLCYCLE_MODEL_DIR": str(Path(args.model_dir).resolve())}
    if args.torch_threads:
        env["OMP_NUM_THREADS"] = str(args.torch_threads)
    with (
        tempfile.TemporaryDirectory() as tmp,
        launch.serving(".", cwd=REPO, env=env, log_path=Path(tmp) / "serve.log") as server,
    ):
        url = server.url
        explain_latency(url, texts[:1], args.steps)  # warm-up
        rows = explain_latency(url, texts[1 : 1 + args.requests], args.steps)
        windows: dict[bool, list[dict]] = {False: [], True: []}
        for _ in range(args.rounds):
            for with_explain in (False, True):
                w = asyncio.run(
                    classify_window(url, texts, args.clients, args.seconds, with_explain)
                )
                windows[with_explain].append(w)
                print(
                    f"classify {'with one /explain in flight' if with_explain else 'alone':<28}"
                    f" {w['texts_s']:6.1f} texts/s ({w['errors']} errors)"
                )
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    latencies = sorted(r["s"] for r in rows)
    p50 = statistics.median(latencies)
    deltas = [abs(r["delta"]) for r in rows]
    alone = statistics.median(w["texts_s"] for w in windows[False])
    loaded = statistics.median(w["texts_s"] for w in windows[True])
    under_load = [s for w in windows[True] for s in w["explains"]]
    print(
        f"\n/explain, {args.requests} texts of {rows[0]['words']}+ words (the model's max_length "
        f"tokens): p50 {p50:.2f} s, min {latencies[0]:.2f} s, max {latencies[-1]:.2f} s; "
        f"|delta| median {statistics.median(deltas):.3f}, max {max(deltas):.3f}"
    )
    if under_load:
        print(
            f"/explain while /classify is loaded: {len(under_load)} done, "
            f"median {statistics.median(under_load):.2f} s"
        )
    print(
        f"/classify: alone {alone:.1f} texts/s, with one /explain in flight {loaded:.1f} "
        f"({loaded / alone:.2f}x)"
    )
    errors = sum(w["errors"] for ws in windows.values() for w in ws)
    checks = {
        f"/explain p50 {p50:.2f} s <= 3 s": p50 <= 3.0,
        f"/classify with /explain in flight {loaded / alone:.2f}x >= 0.7x": loaded >= 0.7 * alone,
        f"no /classify errors ({errors})": errors == 0,
    }
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
