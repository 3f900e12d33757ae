"""What the evidence costs `evaluate` on a 100k-row test split (the issue's bound: <= 10 s added).

One process, the same predictions for every row of the table: fullcycle's bootstrap (a multinomial
draw over the distinct (true label, prediction) patterns, fullcycle/core/evidence.py) against the
textbook peer, a per-text index resample with numpy (`rng.integers(n, size=n)` per draw, then the
metrics on the drawn texts). Both give the same distribution; the figures are the time per call.

    python bench/evidence_scale.py [--rows 100000] [--resamples 4000] [--peer-resamples 200]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from fullcycle.core import evidence
from fullcycle.lifecycle.reproduced import cpu

LABELS = [f"class{i}" for i in range(5)]


def synthetic(n: int, accuracy: float, seed: int) -> evidence.Predictions:
    rng = np.random.default_rng(seed)
    actual = rng.integers(0, len(LABELS), n)
    wrong = rng.random(n) > accuracy
    guess = np.where(wrong, (actual + 1) % len(LABELS), actual)
    return evidence.Predictions(tuple(LABELS), "bench", actual, guess[None, :])


def peer_interval(pred: evidence.Predictions, resamples: int) -> tuple[float, float]:
    """The per-text bootstrap of macro-F1, written the usual way."""
    rng = np.random.default_rng(0)
    n, k = pred.rows, len(LABELS)
    values = []
    for _ in range(resamples):
        idx = rng.integers(0, n, n)
        a, p = pred.actual[idx], pred.predicted[0, idx]
        tp = np.bincount(a[a == p], minlength=k)
        support = np.bincount(a, minlength=k) + np.bincount(p, minlength=k)
        values.append(np.mean(2 * tp / np.maximum(support, 1)))
    low, high = np.quantile(values, [0.025, 0.975])
    return float(low), float(high)


def timed(call, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--resamples", type=int, default=evidence.RESAMPLES)
    parser.add_argument("--peer-resamples", type=int, default=200)
    args = parser.parse_args()
    print(f"CPU: {cpu() or 'unknown'}, {os.cpu_count()} cores; {args.rows:,} test texts")
    model, other = synthetic(args.rows, 0.96, 1), synthetic(args.rows, 0.97, 2)

    ours = timed(lambda: evidence.interval(model, resamples=args.resamples))
    paired = timed(lambda: evidence.compare(model, other, resamples=args.resamples))
    io = timed(lambda: evidence.loads(evidence.dumps({"test": model}), "bench"))
    peer = timed(lambda: peer_interval(model, args.peer_resamples), repeat=1)
    peer_full = peer * args.resamples / args.peer_resamples  # the same number of draws

    print(f"{'what':<46} {'seconds':>9}")
    print(f"{f'interval, {args.resamples} draws (fullcycle)':<46} {ours:>9.3f}")
    print(f"{f'paired comparison + McNemar, {args.resamples} draws':<46} {paired:>9.3f}")
    print(f"{'predictions file: write + read back':<46} {io:>9.3f}")
    print(f"{f'peer: per-text resample, {args.resamples} draws (est.)':<46} {peer_full:>9.1f}")
    print(
        f"evaluate's added cost (interval x2 splits + file): {2 * ours + io:.2f} s (bound 10 s); "
    )
    print(f"fullcycle's interval is {peer_full / ours:.0f}x faster than the per-text resample")
    low, high = evidence.interval(model, resamples=args.resamples)["f1_macro_ci"]
    plow, phigh = peer_interval(model, args.peer_resamples)
    print(
        f"same distribution: macro-F1 interval {low:.4f}-{high:.4f} vs peer {plow:.4f}-{phigh:.4f}"
    )


if __name__ == "__main__":
    main()
