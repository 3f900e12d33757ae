"""LoRA (model.peft=lora) against full fine-tuning: wall time per training step and per epoch.

In one process, on the same BBC training texts (data/processed, 128 tokens, batch 16), with the
project's own model builder and LoRA wrapper and conf/'s LoRA settings (conf/model/minilm.yaml:
adapters on the top `lora.top_layers` layers): rounds of `--steps` optimiser steps (forward +
backward + AdamW on the trainable weights), full, LoRA and LoRA on every layer interleaved so that
a shared machine's drifting load hits all alike. An epoch = its training steps + one validation
pass (the same forward-only work for all), estimated from the measured medians.
Target: LoRA's epoch <= 0.6x full fine-tuning's.

    python bench/lora_speed.py [--steps 4] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from omegaconf import OmegaConf

ROOT = Path(__file__).resolve().parents[1]


def batches(processed: Path, split: str, tokenizer, n: int, batch: int, max_length: int) -> list:
    from fullcycle.core.splits import read_labels, read_split

    labels = read_labels(processed)
    df = read_split(processed, split, labels).head(n * batch)
    out = []
    for i in range(0, len(df), batch):
        part = df.iloc[i : i + batch]
        enc = tokenizer(
            part["text"].tolist(),
            truncation=True,
            max_length=max_length,
            padding=True,
            return_tensors="pt",
        )
        enc["labels"] = torch.tensor([labels.index(str(x)) for x in part["label"]])
        out.append(enc)
    return out


def make(overrides: list[str], labels: list[str]):
    from fullcycle.core import classifier, params
    from fullcycle.train import lora

    composed = params.compose(ROOT / "conf", ["model=minilm", "model.max_length=128", *overrides])
    cfg = OmegaConf.create(composed["model"])
    torch.manual_seed(0)
    model = lora.wrap(classifier.build_model(cfg, labels), cfg).train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    return model, torch.optim.AdamW(trainable, lr=1e-4, fused=True), lora.describe(model, cfg)


def timed_steps(model, opt, data: list) -> float:
    start = time.perf_counter()
    for enc in data:
        loss = model(**enc).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    return (time.perf_counter() - start) / len(data)


@torch.inference_mode()
def timed_eval(model, data: list) -> float:
    model.eval()
    start = time.perf_counter()
    for enc in data:
        model(**{k: v for k, v in enc.items() if k != "labels"})
    model.train()
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=4, help="timed steps per round and method")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--processed", default=str(ROOT / "data/processed"))
    args = ap.parse_args()

    from fullcycle.core import classifier
    from fullcycle.core.splits import read_labels, read_split

    processed = Path(args.processed)
    labels = read_labels(processed)
    tok = classifier.load_tokenizer("minilm")
    data = batches(processed, "train", tok, args.steps, 16, 128)
    val_rows = len(read_split(processed, "val", labels))
    train_rows = len(read_split(processed, "train", labels))
    kinds = {
        "full": ["model.peft=none"],
        "lora": ["model.peft=lora"],
        "lora-all": ["model.peft=lora", "model.lora.top_layers=null"],
    }
    models = {name: make(overrides, labels) for name, overrides in kinds.items()}
    for model, opt, line in models.values():
        print(line)
        timed_steps(model, opt, data[:1])  # warm-up (allocations, first-call overheads)
    step = {name: [] for name in models}
    for r in range(args.rounds):
        for name, (model, opt, _) in models.items():
            step[name].append(timed_steps(model, opt, data))
        print(
            f"round {r + 1}: s/step " + ", ".join(f"{n} {v[-1]:.2f}" for n, v in step.items()),
            flush=True,
        )
    evalb = batches(processed, "val", tok, 4, 16, 128)
    per_val_batch = timed_eval(models["full"][0], evalb) / len(evalb)
    val_s = per_val_batch * -(-val_rows // 16)
    steps = -(-train_rows // 16)
    median = {name: statistics.median(v) for name, v in step.items()}
    epoch = {name: steps * v + val_s for name, v in median.items()}
    print()
    print(
        f"| {train_rows} train + {val_rows} val texts | s per step (median of {args.rounds}) | "
        f"epoch estimate, s ({steps} steps + val {val_s:.0f} s) | epoch vs full |"
    )
    print("|---|---|---|---|")
    for name in models:
        print(
            f"| {name} | {median[name]:.2f} | {epoch[name]:.0f} | "
            f"{epoch[name] / epoch['full']:.2f}x |"
        )
    ratio = epoch["lora"] / epoch["full"]
    print(f"\n{'PASS' if ratio <= 0.6 else 'FAIL'}  LoRA epoch <= 0.6x full ({ratio:.2f}x)")
    return 0 if ratio <= 0.6 else 1


if __name__ == "__main__":
    sys.exit(main())
