"""`fullcycle optimize --bench`: how fast is each variant, here and now?

Builds every variant (as the stage does, in a temporary folder) and times, in this one process,
torch fp32 and each ONNX variant on the test texts: batch-1 latency (p50/p95 over single texts)
and batch-32 throughput, in interleaved rounds so that a shared machine's drifting load hits all
alike. Prints a table and writes reports/optimize/bench.json: an uncached report that no stage
reads (timings never enter a stage's outputs). The load average is recorded next to the figures.
"""

from __future__ import annotations

import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from omegaconf import DictConfig
from tqdm import tqdm

from fullcycle.core import classifier, params, paths
from fullcycle.core.io import write_json
from fullcycle.core.splits import read_split
from fullcycle.optimize import variants
from fullcycle.optimize.onnx_model import OnnxClassifier

REPORT = paths.OPTIMIZE_BENCH
ROUNDS = 3
SINGLE_TEXTS = 16  # batch-1 calls per round
BATCH = 32
BATCHED_TEXTS = 128  # texts per round at batch 32


def _seconds(model: Any, texts: list[str], batch_size: int) -> float:
    start = time.perf_counter()
    model.probabilities(texts, batch_size=batch_size)
    return time.perf_counter() - start


def measure(models: dict[str, Any], texts: list[str], rounds: int = ROUNDS) -> dict[str, dict]:
    single = texts[:SINGLE_TEXTS]
    batched = (texts * (BATCHED_TEXTS // max(1, len(texts)) + 1))[:BATCHED_TEXTS]
    latencies: dict[str, list[float]] = {name: [] for name in models}
    throughput: dict[str, list[float]] = {name: [] for name in models}
    for model in models.values():  # warm-up: first calls allocate
        model.probabilities(single[:2], batch_size=1)
        model.probabilities(batched[:BATCH], batch_size=BATCH)
    steps = tqdm(total=rounds * len(models), desc="bench", unit="variant", leave=False)
    for _ in range(rounds):
        for name, model in models.items():
            latencies[name] += [_seconds(model, [text], 1) for text in single]
            throughput[name].append(len(batched) / _seconds(model, batched, BATCH))
            steps.update()
    steps.close()
    results = {}
    for name in models:
        q = statistics.quantiles(latencies[name], n=20)
        results[name] = {
            "batch1_p50_ms": round(statistics.median(latencies[name]) * 1000, 1),
            "batch1_p95_ms": round(q[18] * 1000, 1),
            "batch32_texts_s": round(statistics.median(throughput[name]), 1),
        }
    base = results["torch"]
    for r in results.values():
        r["batch32_vs_torch"] = round(r["batch32_texts_s"] / base["batch32_texts_s"], 2)
        r["batch1_p50_vs_torch"] = round(r["batch1_p50_ms"] / base["batch1_p50_ms"], 2)
    return results


def run(cfg: DictConfig, model_dir: str | Path = classifier.DEFAULT_DIR) -> dict[str, Any]:
    import onnxruntime
    import torch

    opt = params.section(cfg, "optimize")
    preference = [str(name) for name in opt.preference]
    data = params.section(cfg, "data")
    load_before = os.getloadavg()[0]
    torch_model = classifier.Classifier(model_dir, device="cpu")
    test = read_split(data.processed_dir, "test", torch_model.labels)
    texts = test["text"].tolist()
    with tempfile.TemporaryDirectory(prefix="fullcycle-bench-") as work:
        built = variants.build(
            model_dir,
            preference,
            opt,
            Path(work),
            data.processed_dir,
            int(params.section(cfg, "seed")),
        )
        models: dict[str, Any] = {"torch": torch_model}
        for name, path in built.paths.items():
            models[name] = OnnxClassifier(
                path,
                torch_model.tokenizer,
                torch_model.labels,
                torch_model.max_length,
                n_windows=torch_model.windows,
            )
        results = measure(models, texts)
    report = {
        "results": results,
        "skipped": built.skipped,
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_before": round(load_before, 2),
            "load_average_after": round(os.getloadavg()[0], 2),
            "torch_threads": torch.get_num_threads(),
            "onnxruntime": onnxruntime.__version__,
            "processor": platform.processor() or platform.machine(),
        },
        "max_length": torch_model.max_length,
        "command": "fullcycle optimize --bench",
    }
    write_json(REPORT, report)
    return report


def table(report: dict[str, Any]) -> str:
    rows = [
        "| variant | batch-1 p50 ms | batch-1 p95 ms | batch-32 texts/s | vs torch fp32 |",
        "|---|---|---|---|---|",
    ]
    for name, r in report["results"].items():
        rows.append(
            f"| {name} | {r['batch1_p50_ms']} | {r['batch1_p95_ms']} | {r['batch32_texts_s']} "
            f"| {r['batch32_vs_torch']}x |"
        )
    m = report["machine"]
    rows.append(
        f"\n{m['cpus']} CPUs, load average {m['load_average_before']} before / "
        f"{m['load_average_after']} after; {report['max_length']} tokens max"
    )
    return "\n".join(rows)


def print_bench(cfg: DictConfig) -> None:
    report = run(cfg)
    print(table(report))
    for name, why in report["skipped"].items():
        print(f"{name} skipped: {why}")
    print(f"wrote {REPORT} (not a stage output: rerun `fullcycle optimize --bench` any time)")
