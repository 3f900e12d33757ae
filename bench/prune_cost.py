"""What structured head pruning costs and buys on a CPU: seconds per re-fine-tune step (batch 16 x
128 tokens) and torch forward texts/s at batch 32, unpruned vs 50% of heads pruned, interleaved
in one process. The model: models/classifier, or any save_pretrained folder.

    python bench/prune_cost.py [MODEL_DIR] [--data-dir data/processed] [--rounds 3]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import pandas as pd
import torch

from fullcycle.core import classifier
from fullcycle.optimize import prune, variants


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", nargs="?", default="models/classifier")
    parser.add_argument("--data-dir", default="data/processed")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    full = variants.load_eager(args.model_dir)
    pruned = copy.deepcopy(full)
    prune.prune_heads(pruned, 0.5)
    tokenizer = classifier.load_tokenizer(args.model_dir)
    texts = pd.read_parquet(f"{args.data_dir}/train.parquet")["text"].tolist()[:32]
    batch16 = tokenizer(
        texts[:16], truncation=True, max_length=128, padding=True, return_tensors="pt"
    )
    batch32 = tokenizer(texts, truncation=True, max_length=128, padding=True, return_tensors="pt")
    labels = torch.zeros(16, dtype=torch.long)
    models = {"unpruned": full, "pruned 50%": pruned}
    optimizers = {k: torch.optim.AdamW(m.parameters(), lr=1e-5) for k, m in models.items()}
    step = {k: [] for k in models}
    forward = {k: [] for k in models}
    for _ in range(args.rounds):
        for name, model in models.items():
            model.train()
            start = time.perf_counter()
            model(**batch16, labels=labels).loss.backward()
            optimizers[name].step()
            optimizers[name].zero_grad()
            step[name].append(time.perf_counter() - start)
            model.eval()
            with torch.inference_mode():
                start = time.perf_counter()
                model(**batch32)
                forward[name].append(32 / (time.perf_counter() - start))
    for name, model in models.items():
        print(
            f"{name:<11} {statistics.median(step[name]):6.2f} s/step  "
            f"{statistics.median(forward[name]):6.1f} texts/s forward  "
            f"{sum(p.numel() for p in model.parameters()) / 1e6:.1f} M parameters"
        )


if __name__ == "__main__":
    main()
