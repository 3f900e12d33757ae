"""Does the served MiniLM model hold up under load, and does adaptive batching pay?

Side by side, on this machine, the same texts (BBC News articles, each truncated to the model's
max_length), one text per request from N concurrent clients for T seconds:
  ceiling   the raw model in one process, batched predict() (tokenize + forward + softmax)
  batched   `bentoml serve` with adaptive batching (the shipped configuration)
  unbatched the same service with FULLCYCLE_BATCHING=0 (one forward pass per request)
Both servers run side by side (an idle one costs nothing) and the three are measured in
interleaved windows, so that the drifting load of other tenants hits all three alike.
Then a malformed-traffic run: 1000 requests, 10% malformed (every kind of bad input the service
rejects), against the batched server: every malformed one must be a 4xx, every good one a 200.

Targets: batched texts/s >= 60% of the ceiling and >= 1.2x unbatched, with zero errors.
The machine may be shared: figures are noisy, rerun before trusting a small difference.

    python bench/serve_load.py [--clients 32] [--seconds 10] [--rounds 3] [--model-dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import torch
from omegaconf import OmegaConf

from fullcycle.core import classifier
from fullcycle.core.sources import read_bbc_news
from fullcycle.serve import launch

REPO = Path(__file__).resolve().parents[1]


def minilm_model(model_dir: str | None, tmp: Path) -> Path:
    """The trained model if there is one, else MiniLM with an untrained head: the same work per
    text, which is all a throughput benchmark needs."""
    if model_dir or (REPO / "models" / "classifier" / classifier.META_FILE).is_file():
        return Path(model_dir or REPO / "models" / "classifier")
    cfg = OmegaConf.load(REPO / "conf" / "model" / "minilm.yaml")
    labels = ["business", "entertainment", "politics", "sports", "tech"]
    directory = tmp / "minilm"
    model = classifier.build_model(cfg, labels).eval()
    classifier.save(directory, model, classifier.load_tokenizer("minilm"), labels, cfg.max_length)
    return directory


_MODELS: dict[Path, classifier.Classifier] = {}


def ceiling(model_dir: Path, texts: list[str], seconds: float) -> float:
    """Texts/s of predict() in batches of 32 in this process, after a warm-up batch."""
    if model_dir not in _MODELS:
        _MODELS[model_dir] = classifier.Classifier(model_dir, device="cpu")
    model = _MODELS[model_dir]
    model.predict(texts[:32])
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        batch = texts[done % len(texts) :][:32] or texts[:32]
        model.predict(batch, batch_size=32)
        done += len(batch)
    return done / (time.perf_counter() - start)


async def load(url: str, texts: list[str], clients: int, seconds: float, warm: bool) -> dict:
    """Closed loop: each client sends one text, waits for the answer, sends the next."""
    latencies: list[float] = []
    errors = 0
    stop = 0.0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:

        async def one_client(k: int) -> None:
            nonlocal errors
            i = k
            while time.perf_counter() < stop:
                sent = time.perf_counter()
                try:
                    response = await client.post(
                        "/classify", json={"texts": [texts[i % len(texts)]]}
                    )
                    ok = response.status_code == 200 and len(response.json()) == 1
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - sent)
                errors += not ok
                i += clients

        for _ in range(3 if warm else 0):  # let the batching optimiser learn the model's speed
            await asyncio.gather(
                *(client.post("/classify", json={"texts": [texts[k]]}) for k in range(clients))
            )
        start = time.perf_counter()
        stop = start + seconds
        await asyncio.gather(*(one_client(k) for k in range(clients)))
        elapsed = time.perf_counter() - start
    return {"latencies": latencies, "errors": errors, "elapsed": elapsed}


def summarise(windows: list[dict]) -> dict[str, float]:
    """Median throughput over the windows; latency percentiles over all their requests."""
    latencies = [x for w in windows for x in w["latencies"]]
    quantiles = statistics.quantiles(latencies, n=100)
    per_window = [(len(w["latencies"]) - w["errors"]) / w["elapsed"] for w in windows]
    return {
        "texts_s": statistics.median(per_window),
        "windows": per_window,
        "rps": statistics.median(len(w["latencies"]) / w["elapsed"] for w in windows),
        "p50": quantiles[49] * 1000,
        "p95": quantiles[94] * 1000,
        "p99": quantiles[98] * 1000,
        "errors": sum(w["errors"] for w in windows),
    }


def malformed_requests(texts: list[str], limits: dict[str, int]) -> list[tuple[str, bytes, str]]:
    """(kind, body, content type) for every kind of bad input, and good ones."""
    json_type = "application/json"
    return [
        ("invalid JSON", b'{"texts": ["unterminated', json_type),
        ("texts not a list", json.dumps({"texts": texts[0]}).encode(), json_type),
        ("text not a string", json.dumps({"texts": [texts[0], 42]}).encode(), json_type),
        ("empty list", b'{"texts": []}', json_type),
        ("missing field", json.dumps({"text": [texts[0]]}).encode(), json_type),
        ("blank text", b'{"texts": ["  "]}', json_type),
        (
            "too many texts",
            json.dumps({"texts": ["hi"] * (limits["max_texts"] + 1)}).encode(),
            json_type,
        ),
        (
            "text too long",
            json.dumps({"texts": ["x" * (limits["max_chars"] + 1)]}).encode(),
            json_type,
        ),
        (
            "form body",
            json.dumps({"texts": [texts[0]]}).encode(),
            "application/x-www-form-urlencoded",
        ),
        ("not an object", b"[1, 2, 3]", json_type),
    ]


async def malformed_traffic(
    url: str, texts: list[str], total: int = 1000, bad_share: float = 0.1
) -> dict:
    limits = httpx.get(f"{url}/metadata").json()["limits"]
    bad_kinds = malformed_requests(texts, limits)
    rng = random.Random(0)
    bad_at = set(rng.sample(range(total), int(total * bad_share)))
    plan = [
        bad_kinds[i % len(bad_kinds)]
        if i in bad_at
        else ("good", json.dumps({"texts": [texts[i % len(texts)]]}).encode(), "application/json")
        for i in range(total)
    ]
    results: list[tuple[str, int]] = []
    queue = list(enumerate(plan))
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:

        async def worker() -> None:
            while queue:
                _, (kind, body, content_type) = queue.pop()
                response = await client.post(
                    "/classify", content=body, headers={"Content-Type": content_type}
                )
                results.append((kind, response.status_code))

        await asyncio.gather(*(worker() for _ in range(16)))
    good = [code for kind, code in results if kind == "good"]
    bad = [(kind, code) for kind, code in results if kind != "good"]
    return {
        "good": len(good),
        "good_200": sum(code == 200 for code in good),
        "bad": len(bad),
        "bad_4xx": sum(400 <= code < 500 for _, code in bad),
        "bad_codes": sorted({f"{kind}: {code}" for kind, code in bad}),
    }


def row(name: str, r: dict[str, float], ceiling_tps: float) -> str:
    return (
        f"{name:<10} {r['texts_s']:8.1f} {r['rps']:8.1f} {r['p50']:8.0f} {r['p95']:8.0f} "
        f"{r['p99']:8.0f} {r['errors']:7d} {r['texts_s'] / ceiling_tps:9.0%}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10, help="length of each window")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved measurement rounds")
    parser.add_argument("--model-dir", help="default: models/classifier, else untrained MiniLM")
    parser.add_argument("--malformed", type=int, default=1000, help="requests in the malformed run")
    parser.add_argument(
        "--torch-threads",
        type=int,
        help="intra-op threads for the ceiling and both servers (OMP_NUM_THREADS); default: "
        "torch's (one per core). On a shared machine 1 can be several times faster",
    )
    args = parser.parse_args()
    print(
        f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared machine)"
    )
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    texts = list(read_bbc_news()["text"].sample(frac=1.0, random_state=0))[:512]

    with tempfile.TemporaryDirectory() as tmp_name, contextlib.ExitStack() as stack:
        tmp = Path(tmp_name)
        model_dir = minilm_model(args.model_dir, tmp).resolve()
        print(
            f"model: {model_dir}; {args.clients} clients, one text per request, "
            f"{args.rounds} rounds of {args.seconds:.0f} s windows, "
            f"torch threads {args.torch_threads or torch.get_num_threads()}"
        )
        urls = {}
        for name, batching in (("batched", "1"), ("unbatched", "0")):
            env = {"FULLCYCLE_MODEL_DIR": str(model_dir), "FULLCYCLE_BATCHING": batching}
            if args.torch_threads:
                env["OMP_NUM_THREADS"] = str(args.torch_threads)
            log = tmp / f"{name}.log"
            urls[name] = stack.enter_context(
                launch.serving(".", cwd=REPO, env=env, log_path=log)
            ).url
        # Interleaved windows (ceiling, batched, unbatched, repeat): on a shared machine the other
        # tenants' load drifts, and interleaving spreads that drift over all three alike.
        ceilings, windows = [], {name: [] for name in urls}
        for r in range(args.rounds):
            ceilings.append(ceiling(model_dir, texts, args.seconds))
            for name, url in urls.items():
                windows[name].append(
                    asyncio.run(load(url, texts, args.clients, args.seconds, r == 0))
                )
            print(
                f"round {r + 1}: ceiling {ceilings[-1]:.1f} texts/s, "
                + ", ".join(
                    f"{n} {(len(w[-1]['latencies']) - w[-1]['errors']) / w[-1]['elapsed']:.1f}"
                    for n, w in windows.items()
                )
            )
        malformed = asyncio.run(malformed_traffic(urls["batched"], texts, args.malformed))
    ceiling_tps = statistics.median(ceilings)
    results = {name: summarise(w) for name, w in windows.items()}

    on, off = results["batched"], results["unbatched"]
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print(
        f"\n{'':<10} {'texts/s':>8} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7} {'/ceiling':>9}"
    )
    print(
        f"{'ceiling':<10} {ceiling_tps:8.1f} {'':>8} {'':>8} {'':>8} {'':>8} {'':>7} {1:9.0%}"
        f"   (windows: {', '.join(f'{c:.1f}' for c in ceilings)})"
    )
    print(row("batched", on, ceiling_tps))
    print(row("unbatched", off, ceiling_tps))
    print("(texts/s: median over windows; latency percentiles over every request of all windows)")
    speedup = on["texts_s"] / off["texts_s"]
    checks = {
        "batched >= 60% of the ceiling": on["texts_s"] >= 0.6 * ceiling_tps,
        f"batched >= 1.2x unbatched ({speedup:.2f}x)": speedup >= 1.2,
        "zero errors under load": on["errors"] == 0 and off["errors"] == 0,
        f"malformed: {malformed['bad_4xx']}/{malformed['bad']} got a 4xx": malformed["bad_4xx"]
        == malformed["bad"],
        f"good: {malformed['good_200']}/{malformed['good']} got a 200": malformed["good_200"]
        == malformed["good"],
    }
    print(f"\nmalformed kinds -> status: {', '.join(malformed['bad_codes'])}")
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
