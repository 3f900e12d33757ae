"""`fullcycle optimize`: build the serving variants, score them on the test split, keep one.

Reads the optimize, seed and data sections of params.yaml and models/classifier/. Every variant
(see variants.py) is scored on the test split: accuracy, macro-F1, agreement with the fp32 PyTorch
model's predictions, and size on disk. The gate (gate.py) picks the first variant of
optimize.preference not worse than the fp32 ONNX graph beyond noise (the paired comparison of their
test predictions, at optimize.confidence). Writes, together or not at all:
- models/optimized/: the chosen model.onnx, the tokenizer, manifest.json (variant, labels, source
  model version, metrics);
- reports/optimize/summary.json (DVC metrics in git): every variant's scores, the choice, why;
- reports/optimize/card.md (in git): the model card's serving section, variants next to fp32.
No timing enters either (the outputs are a function of the inputs): speed is measured by
`fullcycle optimize --bench` (bench.py) and bench/serve_runtime.py.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from fullcycle.core import classifier, evidence, params, paths
from fullcycle.core.errors import FullcycleError
from fullcycle.core.evidence import Predictions
from fullcycle.core.io import atomic_path
from fullcycle.core.splits import read_split
from fullcycle.optimize import card, gate, variants
from fullcycle.optimize.onnx_model import DEFAULT_DIR, MANIFEST, MODEL_FILE, OnnxClassifier

SUMMARY = paths.OPTIMIZE_SUMMARY
CARD = paths.OPTIMIZE_CARD


def settings(cfg: DictConfig) -> tuple[DictConfig, list[str], gate.Rule]:
    """The optimize section (checked when params.yaml was loaded: core/schema_release.py), its
    preference and the gate's rule."""
    opt = params.section(cfg, "optimize")
    rule = gate.Rule(float(opt.confidence), float(opt.margin))
    return opt, [str(name) for name in opt.preference], rule


def score(
    labels: Sequence[str], actual: Sequence[str], predicted: Sequence[str], reference: Sequence[str]
) -> dict[str, Any]:
    """Accuracy, macro-F1 and agreement with the reference's predictions (4 decimals)."""
    from fullcycle.core.scores import scores

    result = scores(labels, actual, predicted)
    same = sum(p == r for p, r in zip(predicted, reference, strict=True))
    return {
        "accuracy": result["accuracy"],
        "f1_macro": result["f1_macro"],
        "agreement": round(same / len(reference), 4),
    }


def _size_mb(paths: Sequence[Path]) -> float:
    return round(sum(p.stat().st_size for p in paths) / 1e6, 1)


def _labels_of(probabilities: Any, labels: Sequence[str]) -> list[str]:
    return [labels[i] for i in probabilities.argmax(-1).tolist()]


def _check_export(
    model_dir: Path, predictions: dict[str, Predictions], fp32: dict[str, Any], rule: gate.Rule
) -> None:
    """The fp32 ONNX graph is the PyTorch model in another runtime: worse beyond noise is a bug."""
    d = evidence.compare(predictions["torch"], predictions["fp32"], rule.confidence)[gate.METRIC]
    if d.verdict == evidence.WORSE:
        raise FullcycleError(
            f"the ONNX export of {model_dir} disagrees with PyTorch (test macro-F1 {d.b:.4f} vs "
            f"{d.a:.4f}, agreement {fp32['agreement']:.2%}): {d.verdict}, so no variant can be "
            "judged against it. Serve the PyTorch model (serve.runtime=torch) and report this "
            "as a bug."
        )


def run(cfg: DictConfig, model_dir: str | Path = classifier.DEFAULT_DIR) -> dict[str, Any]:
    """Build every variant of `model_dir`, score each on the test split, choose one; write
    models/optimized/, the summary and the card together, and return the summary."""
    opt, preference, rule = settings(cfg)
    data = params.section(cfg, "data")
    model_dir = Path(model_dir)
    torch_model = classifier.Classifier(model_dir, device="cpu")
    labels = torch_model.labels
    test = read_split(data.processed_dir, "test", labels, labels_from=f"{model_dir}'s labels")
    texts, actual = test["text"].tolist(), test["label"].astype(str).tolist()
    batch = int(opt.batch_size)

    reference = _labels_of(torch_model.probabilities(texts, batch), labels)
    predictions = {"torch": Predictions.of(labels, texts, actual, reference)}
    weights = [p for p in model_dir.iterdir() if p.suffix in (".safetensors", ".bin")]
    results: dict[str, dict[str, Any]] = {
        "torch": score(labels, actual, reference, reference) | {"size_mb": _size_mb(weights)}
    }
    with tempfile.TemporaryDirectory(prefix="fullcycle-optimize-") as work_dir:
        work = Path(work_dir)
        built = variants.build(
            model_dir, preference, opt, work, data.processed_dir, int(params.section(cfg, "seed"))
        )
        scored = _score_variants(built, torch_model, texts, actual, reference, batch)
        predictions |= scored[0]
        results |= scored[1]

        _check_export(model_dir, predictions, results["fp32"], rule)
        choice = gate.choose(preference, predictions, built.skipped, rule)
        summary = {  # served and torch_fp32 side by side: what `dvc metrics diff` compares
            "chosen": choice.variant,
            "served": results[choice.variant],
            "torch_fp32": results["torch"],
            "confidence": rule.confidence,
            "margin": rule.margin,
            "preference": preference,
            "reason": choice.reason,
            "variants": results,
        }
        manifest = _manifest(choice, torch_model, model_dir, results, rule, built)
        _write(built.paths[choice.variant], torch_model, manifest, summary)
    return summary


def _score_variants(
    built: variants.Built,
    torch_model: classifier.Classifier,
    texts: list[str],
    actual: list[str],
    reference: list[str],
    batch: int,
) -> tuple[dict[str, Predictions], dict[str, dict[str, Any]]]:
    """Each built variant's test predictions and scores (next to the PyTorch model's `reference`
    predictions); a skipped variant's result is why it was skipped."""
    labels = torch_model.labels
    predictions: dict[str, Predictions] = {}
    results: dict[str, dict[str, Any]] = {}
    for name, path in built.paths.items():
        model = OnnxClassifier(
            path,
            torch_model.tokenizer,
            labels,
            torch_model.max_length,
            n_windows=torch_model.windows,
        )
        predicted = _labels_of(model.probabilities(texts, batch), labels)
        predictions[name] = Predictions.of(labels, texts, actual, predicted)
        results[name] = score(labels, actual, predicted, reference) | {"size_mb": _size_mb([path])}
    for name, why in built.skipped.items():
        results[name] = {"skipped": why}
    return predictions, results


def _manifest(
    choice: gate.Choice,
    torch_model: classifier.Classifier,
    model_dir: Path,
    results: dict[str, dict[str, Any]],
    rule: gate.Rule,
    built: variants.Built,
) -> dict[str, Any]:
    """models/optimized/manifest.json: the chosen variant, what the runtime needs, the model it
    came from and why it was chosen."""
    from fullcycle.core.provenance import content_version

    return {
        "variant": choice.variant,
        "runtime": "onnx",
        "model_file": MODEL_FILE,
        "labels": torch_model.labels,
        "max_length": torch_model.max_length,
        "windows": torch_model.windows,
        "source": {"path": model_dir.as_posix(), "version": content_version(model_dir)},
        "metrics": {"test": results[choice.variant], "reference": results["torch"]},
        "confidence": rule.confidence,
        "margin": rule.margin,
        "reason": choice.reason,
        "fused_operators": built.fused.get(choice.variant, built.fused["fp32"]),
    }


def _write(
    model_file: Path,
    torch_model: classifier.Classifier,
    manifest: dict[str, Any],
    summary: dict[str, Any],
) -> None:
    """models/optimized/ (the chosen model.onnx, the tokenizer, the manifest), the summary and the
    card, together or not at all."""
    version = manifest["source"]["version"]
    with atomic_path(DEFAULT_DIR) as out, atomic_path(SUMMARY) as s, atomic_path(CARD) as c:
        out.mkdir()
        shutil.copyfile(model_file, out / MODEL_FILE)
        torch_model.tokenizer.save_pretrained(out)
        (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        s.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        c.write_text(card.render(summary, version), encoding="utf-8")


def cli_optimize(args) -> int:
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    cfg = params.load()
    if getattr(args, "bench", False):
        from fullcycle.optimize import bench

        bench.print_bench(cfg)
        return 0
    summary = run(cfg)
    for name, result in summary["variants"].items():
        if "skipped" in result:
            continue
        print(
            f"  {name:<12} accuracy {result['accuracy']:.4f}  macro-F1 {result['f1_macro']:.4f}  "
            f"agreement {result['agreement']:.2%}  {result['size_mb']:6.1f} MB"
        )
    print(f"optimize: serving {summary['reason']}; wrote {DEFAULT_DIR}/, {SUMMARY}, {CARD}")
    return 0
