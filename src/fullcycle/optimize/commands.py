"""`fullcycle optimize [--bench] [KEY=VALUE ...]`: declared here, next to the step (no torch at
import). A DVC stage, so by hand it takes Hydra overrides for that run only."""

from __future__ import annotations


def register(add, stage, command) -> None:
    p = add(
        "optimize",
        command("fullcycle.optimize.stage:cli_optimize", stage=True),
        "export the model to ONNX (fused fp32, dynamic int8, optionally head-pruned) and keep the "
        "first variant of optimize.preference not worse than fp32 beyond noise: models/optimized/",
    )
    p.add_argument(
        "--bench",
        action="store_true",
        help="instead: time torch fp32 and every variant at batch 1 and 32 in this process; "
        "writes reports/optimize/bench.json (uncached: no stage reads it)",
    )
