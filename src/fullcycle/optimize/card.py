"""reports/optimize/card.md: the model card's serving section, from the optimize stage's summary.

Quality only (accuracy, macro-F1, agreement, size next to fp32's): the card is a stage output, so it
holds no timing. Speed is measured on demand by the commands it names.
"""

from __future__ import annotations

from typing import Any

NAMES = {
    "torch": "PyTorch fp32 (reference)",
    "fp32": "ONNX Runtime fp32, BERT-fused",
    "int8": "ONNX Runtime dynamic int8, fused",
    "pruned-int8": "heads pruned + re-fine-tuned, int8, fused",
}


def render(summary: dict[str, Any], source_version: str) -> str:
    reference = summary["torch_fp32"]
    margin = (
        f" (or worse by less than {summary['margin']:g}, beyond noise)" if summary["margin"] else ""
    )
    lines = [
        "# Model card: serving variants",
        "",
        f"Built by `fullcycle optimize` from model version `{source_version}` (models/classifier), "
        "scored on the test split against the PyTorch fp32 model.",
        "",
        "| variant | test accuracy | test macro-F1 | Δ macro-F1 vs fp32 | agrees with fp32 | size |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in summary["variants"].items():
        label = NAMES.get(name, name) + (" **served**" if name == summary["chosen"] else "")
        if "skipped" in r:
            lines.append(f"| {label} | skipped: {r['skipped']} | | | | |")
            continue
        delta = r["f1_macro"] - reference["f1_macro"]
        lines.append(
            f"| {label} | {r['accuracy']:.4f} | {r['f1_macro']:.4f} | {delta:+.4f} | "
            f"{r['agreement']:.1%} | {r['size_mb']:.1f} MB |"
        )
    lines += [
        "",
        f"Gate: the first of {', '.join(summary['preference'])} not worse than the ONNX fp32 "
        f"graph beyond noise{margin} is served: the paired bootstrap interval of the test "
        f"macro-F1 difference ({summary['confidence']:.0%}) and McNemar's exact test, on the same "
        f"texts. Chosen: {summary['reason']}.",
        "",
        "Speed (not part of this card: timings depend on the machine): `fullcycle optimize "
        "--bench` (each variant, batch 1 and 32, in one process) and `python "
        "bench/serve_runtime.py` (served, torch vs onnx runtime); the README quotes a measured run.",
        "",
    ]
    return "\n".join(lines)
