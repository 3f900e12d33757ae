"""How does `fullcycle monitor` scale with the current set? (target: 10k rows, report <= 60 s, <= 4 GB)

Each size runs in a fresh process, so its peak memory is its own. Reference: the BBC training split
(seed 42, 1,272 texts). Current: N distinct texts synthesised from the held-out articles (a held-out
article with one sentence swapped for one of another article on the same topic).
Scoring uses the real Classifier on an untrained tiny BERT (64-d embeddings, one torch thread); its
time is reported apart from the report's (checks + Evidently + HTML), which depends on the model
only through the embedding width: by default the embeddings are projected (fixed random matrix) to
384 dimensions, MiniLM's width, so the report handles what the default model would give it.

    python bench/monitor_scale.py [--sizes 1000 10000 50000] [--width 384]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]


def synthesise(pool: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    """`rows` distinct texts in the corpus's own style: a held-out article with one sentence swapped
    for a sentence of another article on the same topic."""
    rng = np.random.default_rng(seed)
    sentences = [t.split(". ") for t in pool["text"]]
    labels = pool["label"].to_numpy()
    by_label = {label: np.flatnonzero(labels == label) for label in np.unique(labels)}
    out: dict[str, str] = {}
    while len(out) < rows:
        i = int(rng.integers(len(pool)))
        own = list(sentences[i])
        donor = sentences[int(rng.choice(by_label[labels[i]]))]
        own[int(rng.integers(len(own)))] = donor[int(rng.integers(len(donor)))]
        out.setdefault(". ".join(own), labels[i])
    return pd.DataFrame({"text": list(out), "label": list(out.values())})


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def child(rows: int, model_dir: str, width: int) -> dict:
    import torch
    from omegaconf import OmegaConf

    from fullcycle.core import params
    from fullcycle.core.classifier import Classifier
    from fullcycle.data.prepare import load_and_validate
    from fullcycle.data.split import split_fractions, stratified_split
    from fullcycle.monitor.checks import evaluate
    from fullcycle.monitor.inputs import distinct, score

    torch.set_num_threads(1)
    cfg = OmegaConf.create(params.compose(REPO / "conf", ["model=tiny"]))
    clean = load_and_validate(cfg.data).raise_if_invalid()
    parts = stratified_split(clean, split_fractions(OmegaConf.to_container(cfg.data.split)), 42)
    pool = pd.concat([parts["val"], parts["test"], parts["production"]], ignore_index=True)
    reference = distinct(parts["train"], "training split")
    current = distinct(synthesise(pool, rows, seed=rows), "synthesised")

    model = Classifier(model_dir, device="cpu")
    start = time.perf_counter()
    ref_scored = score(model, reference, 64)
    ref_s = time.perf_counter() - start
    cur_scored = score(model, current, 64)
    scoring_s = time.perf_counter() - start
    if width:
        projection = np.random.default_rng(0).normal(size=(ref_scored.embeddings.shape[1], width))
        for side in (ref_scored, cur_scored):
            side.embeddings = (side.embeddings @ projection).astype(np.float32)
    after_scoring_mb = peak_mb()

    start = time.perf_counter()
    snapshot, checks = evaluate(ref_scored, cur_scored, cfg.monitor, 42, model.labels)
    with tempfile.TemporaryDirectory() as tmp:
        html = Path(tmp) / "report.html"
        snapshot.save_html(str(html))
        html_mb = html.stat().st_size / 1e6
    report_s = time.perf_counter() - start
    return {
        "rows": len(current),
        "scoring_s": scoring_s,
        "reference_scoring_s": ref_s,
        "report_s": report_s,
        "peak_after_scoring_mb": after_scoring_mb,
        "peak_mb": peak_mb(),
        "html_mb": html_mb,
        "drifted": [c.name for c in checks if c.drift],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 50_000])
    parser.add_argument(
        "--width", type=int, default=384, help="embedding width for the report (0: the model's own)"
    )
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--model-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.model_dir, args.width)))
        return

    import torch
    from omegaconf import OmegaConf

    from fullcycle.core import classifier, params

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        cfg = OmegaConf.create(params.compose(REPO / "conf", ["model=tiny"]))
        labels = json.loads(
            json.dumps(sorted(["business", "entertainment", "politics", "sports", "tech"]))
        )
        torch.manual_seed(0)
        model_dir = Path(tmp) / "classifier"
        model = classifier.build_model(cfg.model, labels)
        classifier.save(
            model_dir, model, classifier.load_tokenizer("tiny"), labels, cfg.model.max_length
        )
        for rows in args.sizes:
            cmd = [
                sys.executable,
                __file__,
                "--child",
                str(rows),
                "--model-dir",
                str(model_dir),
                "--width",
                str(args.width),
            ]
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode != 0:
                sys.exit(f"{rows} rows failed:\n{done.stderr[-3000:]}")
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(f"  {rows} rows done", file=sys.stderr)

    base = results[0]
    print(f"reference 1,272 texts; embeddings {args.width or 64}-d in the report; one torch thread")
    print(
        f"{'current rows':>12} {'scoring s':>10} {'report s':>9} {'x rows':>7} {'x report':>9} "
        f"{'peak MB':>8} {'scoring peak MB':>16} {'html MB':>8}  drifted"
    )
    for r in results:
        print(
            f"{r['rows']:>12,} {r['scoring_s']:>10.1f} {r['report_s']:>9.1f} "
            f"{r['rows'] / base['rows']:>7.1f} {r['report_s'] / base['report_s']:>9.1f} "
            f"{r['peak_mb']:>8.0f} {r['peak_after_scoring_mb']:>16.0f} {r['html_mb']:>8.1f}  "
            f"{', '.join(r['drifted']) or '-'}"
        )
    print(
        f"(scoring includes the reference: {base['reference_scoring_s']:.1f} s of each row above)"
    )
    print(
        "(the synthetic rows are near-copies of ~850 held-out articles, a narrower distribution "
        "than the training texts: the text check rightly tells them apart)"
    )


if __name__ == "__main__":
    main()
