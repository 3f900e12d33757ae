"""How fast is the trained model on this machine? (Not a stage output: timings are not a function
of the pipeline's inputs, so they stay out of reports/eval/metrics.json and the model card.)

Classifies the test split of data/processed with models/classifier, in one process:
  one text   the median time of a single-text call (what one API request costs), after warm-up
  batched    the time per text of batched calls (batch 32), and the ratio between the two

    python bench/model_latency.py [--model-dir models/classifier] [--texts 64] [--batch-size 32]
The machine may be shared: figures are noisy; the ratio, taken in one process, is steadier.
"""

from __future__ import annotations

import argparse
import statistics
import time

from fullcycle.core import params
from fullcycle.core.classifier import DEFAULT_DIR, Classifier
from fullcycle.core.splits import read_split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", default=str(DEFAULT_DIR))
    parser.add_argument("--texts", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    model = Classifier(args.model_dir)
    data = params.section(params.load(), "data")
    texts = read_split(data.processed_dir, "test", model.labels)["text"].tolist()[: args.texts]
    model.probabilities(texts[:2], batch_size=1)  # warm-up: first calls allocate

    singles = []
    for text in texts:
        start = time.perf_counter()
        model.probabilities([text], batch_size=1)
        singles.append((time.perf_counter() - start) * 1000)
    start = time.perf_counter()
    model.probabilities(texts, batch_size=args.batch_size)
    batched = (time.perf_counter() - start) * 1000 / len(texts)

    one = statistics.median(singles)
    print(f"model {args.model_dir} on {model.device}, {len(texts)} test texts")
    print(f"  one text at a time   {one:8.2f} ms (median)")
    print(
        f"  batches of {args.batch_size:<3}       {batched:8.2f} ms per text ({one / batched:.1f}x)"
    )


if __name__ == "__main__":
    main()
