"""Every file and folder the pipeline writes, spelled once (relative to the project root).

dvc.yaml spells them too (DVC reads no Python): tests/core/test_paths.py checks that each stage's
outputs there are exactly the ones named here, so the two cannot drift. Folders people choose
(data.processed_dir, serve.model_dir, serve.capture_path...) are params in conf/, not here.
"""

from __future__ import annotations

from pathlib import Path

# prepare
DATA_SUMMARY = Path("reports/data/summary.json")
# baseline
BASELINE_METRICS = Path("reports/baseline/metrics.json")
BASELINE_PREDICTIONS = Path("reports/baseline/predictions.json")
# train
MODEL_DIR = Path("models/classifier")
DVCLIVE_DIR = Path("dvclive")
VAL_PREDICTIONS = DVCLIVE_DIR / "val_predictions.json"
# explain
EXPLAIN_PAGE = Path("reports/explain/index.html")
EXPLAIN_SUMMARY = Path("reports/explain/summary.json")
# evaluate
MODEL_CARD = Path("reports/model_card.md")
EVAL_METRICS = Path("reports/eval/metrics.json")
EVAL_PER_CLASS = Path("reports/eval/per_class.json")
EVAL_PREDICTIONS = Path("reports/eval/predictions.json")
EVAL_CONFUSION = Path("reports/eval/confusion.json")
# optimize
OPTIMIZED_DIR = Path("models/optimized")
OPTIMIZE_CARD = Path("reports/optimize/card.md")
OPTIMIZE_SUMMARY = Path("reports/optimize/summary.json")
# package
BENTO = Path("bentos/classifier.bento")
# monitor (the stage passes --out reports/drift; by hand the report goes to a git-ignored folder)
DRIFT_DIR = Path("reports/drift")
DRIFT_REPORT = DRIFT_DIR / "report.html"
DRIFT_SUMMARY = DRIFT_DIR / "summary.json"
DRIFT_METRICS = DRIFT_DIR / "metrics.json"
ADHOC_DRIFT_DIR = Path("reports/adhoc/drift")

# What each DVC stage writes (outs, metrics and plots of dvc.yaml).
OUTPUTS: dict[str, tuple[Path, ...]] = {
    "prepare": (Path("data/processed"), DATA_SUMMARY),  # data.processed_dir's default
    "baseline": (BASELINE_PREDICTIONS, BASELINE_METRICS),
    "train": (MODEL_DIR, DVCLIVE_DIR),
    "explain": (EXPLAIN_PAGE, EXPLAIN_SUMMARY),
    "evaluate": (MODEL_CARD, EVAL_PER_CLASS, EVAL_PREDICTIONS, EVAL_METRICS, EVAL_CONFUSION),
    "optimize": (OPTIMIZED_DIR, OPTIMIZE_CARD, OPTIMIZE_SUMMARY),
    "package": (BENTO,),
    "monitor": (DRIFT_REPORT, DRIFT_SUMMARY, DRIFT_METRICS),
}

# Written by commands outside the pipeline (git-tracked or git-ignored, never DVC outputs).
RAW_DIR = Path("data/raw")  # `fullcycle data add` tracks data files here with DVC
PRODUCTION_DIR = Path("data/production")  # `fullcycle traffic snapshot`: versioned traffic batches
TUNE_DIR = Path("reports/tune")  # `fullcycle tune`: each study's results
PROMOTION_DIR = Path("reports/promotion")  # `fullcycle promote`: the evidence a PR carries
OPTIMIZE_BENCH = Path("reports/optimize/bench.json")  # `fullcycle optimize --bench`
