"""How fast can the served model get on this CPU? The forward pass alone, no server, one process.

Times torch fp32 against ONNX Runtime on the same batch (the test split's first 32 texts at the
model's max_length, and the first of them alone), in interleaved rounds:
  fp32, int8          the optimize stage's variants (export.py), built from the trained model
  int8 modes          other ways to quantise the same graph: uint8 weights, per-channel scales,
                      reduced range, and MatMul-only (attention left in fp32)
  pruned shapes       heads (and feed-forward neurons) cut as optimize.prune cuts them, then
                      quantised; not re-fine-tuned, so their speed is real and their accuracy
                      is not (the optimize stage's gate judges that after the re-fine-tune)
Every ONNX session is made as the service makes it (fullcycle.optimize.onnx_model.session).
The CPU's int8 dot-product instructions are printed first: without AVX-512 VNNI / AVX-VNNI /
AMX, int8 matrix products here use AVX2's multiply-add pairs, which gain far less over fp32.

    python bench/int8_ceiling.py [--model-dir models/classifier] [--data-dir data/processed]
        [--rounds 5] [--no-modes] [--no-pruned]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from onnxruntime.quantization import QuantType
from tqdm import tqdm

from fullcycle.core import classifier
from fullcycle.optimize import export, prune, variants
from fullcycle.optimize.onnx_model import session

INT8_FLAGS = ("avx512_vnni", "avx_vnni", "avx512vnni", "amx_int8", "vnni")
MODES = {  # name: export.quantize's options (the stage's int8: QInt8, one scale per tensor)
    "int8 uint8 weights": {"weight_type": QuantType.QUInt8},
    "int8 per-channel": {"weight_type": QuantType.QInt8, "per_channel": True},
    "int8 reduced range": {"weight_type": QuantType.QInt8, "reduce_range": True},
    "int8 MatMul only": {"weight_type": QuantType.QInt8, "op_types_to_quantize": ["MatMul"]},
}
SHAPES = {  # name: (heads_fraction, ffn_fraction)
    "pruned heads 50%": (0.5, 0.0),
    "pruned heads 50% ffn 25%": (0.5, 0.25),
    "pruned heads 50% ffn 50%": (0.5, 0.5),
}


def cpu() -> tuple[str, list[str]]:
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "unknown", []
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines()
                  if line.startswith("model name")), "unknown")  # fmt: skip
    flags = next((line.split(":", 1)[1].split() for line in info.splitlines()
                  if line.startswith("flags")), [])  # fmt: skip
    return model, sorted(f for f in flags if f in INT8_FLAGS)


def build(model_dir: str, work: Path, modes: bool, pruned: bool) -> dict[str, Path]:
    model = variants.load_eager(model_dir)
    fp32, _ = variants._fused_onnx(model, work, "fp32", export.OPSET)
    paths = {
        "onnx fp32 (fused)": fp32,
        "onnx int8 (stage)": export.quantize(fp32, work / "i8.onnx"),
    }
    for i, (name, options) in enumerate(MODES.items() if modes else []):
        paths[name] = export.quantize(fp32, work / f"mode{i}.onnx", **options)
    for i, (name, (heads, ffn)) in enumerate(SHAPES.items() if pruned else []):
        cut = variants.load_eager(model_dir)
        prune.prune_heads(cut, heads)
        if ffn:
            prune.prune_ffn(cut, ffn)
        fused, _ = variants._fused_onnx(cut, work, f"shape{i}", export.OPSET)
        paths[name] = export.quantize(fused, work / f"shape{i}.i8.onnx")
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", default="models/classifier")
    parser.add_argument("--data-dir", default="data/processed")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-modes", action="store_true", help="skip the other int8 modes")
    parser.add_argument("--no-pruned", action="store_true", help="skip the pruned shapes")
    args = parser.parse_args()
    name, flags = cpu()
    print(f"CPU: {name}, {os.cpu_count()} cores; int8 dot-product flags: {flags or 'none'}")
    tokenizer = classifier.load_tokenizer(args.model_dir)
    max_length = int(classifier.read_meta(args.model_dir)["max_length"])
    texts = pd.read_parquet(Path(args.data_dir) / "test.parquet")["text"].tolist()[:32]
    enc = tokenizer(
        texts, truncation=True, max_length=max_length, padding=True, return_tensors="np"
    )
    feeds = {32: {k: v.astype(np.int64) for k, v in enc.items()}}
    feeds[1] = {k: v[:1] for k, v in feeds[32].items()}
    torch_model = classifier.Classifier(args.model_dir, device="cpu").model.eval()

    def torch_run(feed: dict) -> None:
        with torch.inference_mode():
            torch_model(**{k: torch.from_numpy(v) for k, v in feed.items()})

    runs = {"torch fp32": torch_run}
    with tempfile.TemporaryDirectory(prefix="int8-ceiling-") as work:
        for label, path in build(
            args.model_dir, Path(work), not args.no_modes, not args.no_pruned
        ).items():
            ort = session(path)
            names = {i.name for i in ort.get_inputs()}
            runs[label] = lambda feed, s=ort, n=names: s.run(
                ["logits"], {k: v for k, v in feed.items() if k in n}
            )
        timings: dict[str, dict[int, list[float]]] = {k: {1: [], 32: []} for k in runs}
        load_before = os.getloadavg()[0]
        for run in runs.values():  # warm-up
            run(feeds[32])
            run(feeds[1])
        for _ in tqdm(range(args.rounds), desc="rounds", leave=False):
            for label, run in runs.items():
                for size in (32, 1):
                    for _ in range(1 if size == 32 else 5):
                        start = time.perf_counter()
                        run(feeds[size])
                        timings[label][size].append(time.perf_counter() - start)
    base = {size: statistics.median(timings["torch fp32"][size]) for size in (1, 32)}
    print(f"\nshape {tuple(feeds[32]['input_ids'].shape)}; {args.rounds} interleaved rounds")
    print("| forward | batch-32 texts/s | vs torch fp32 | batch-1 p50 ms | vs torch fp32 |")
    print("|---|---|---|---|---|")
    for label, t in timings.items():
        b32, b1 = statistics.median(t[32]), statistics.median(t[1])
        print(f"| {label} | {32 / b32:.1f} | {base[32] / b32:.2f}x | {b1 * 1000:.1f} | "
              f"{b1 / base[1]:.0%} |")  # fmt: skip
    print(f"\nload average {load_before:.2f} before / {os.getloadavg()[0]:.2f} after "
          "(the figures are only as quiet as the machine)")  # fmt: skip


if __name__ == "__main__":
    main()
