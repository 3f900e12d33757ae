"""One check of everything that needs a GPU, in a few minutes on a CUDA machine.

  gpu    `fullcycle train` with the gpu profile (bf16-mixed), one epoch of the default model
  ddp    the ddp profile on every GPU present (Lightning starts one process per GPU)
  lora   the gpu profile with model.peft=lora
  serve  `bentoml serve` under concurrent load on the GPU (bench/serve_load.py, short windows)
Each training run is a real `fullcycle train` in a scratch folder (params composed from conf/ with
the profile's overrides, data read from the project's data/processed), timed, with its validation
macro-F1. On a machine without CUDA it says so and exits 0.

    python bench/gpu_check.py [--epochs 1] [--skip serve] [--keep]
Run from the project root after `dvc repro prepare` (or `dvc pull`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_train(name: str, overrides: list[str], scratch: Path) -> dict:
    """`fullcycle train` in scratch/name with params composed from conf/ plus `overrides`."""
    from fullcycle.core import params

    work = scratch / name
    work.mkdir(parents=True)
    processed = (ROOT / "data/processed").resolve()
    params.write(
        work / "params.yaml", ROOT / "conf", [*overrides, f"data.processed_dir={processed}"]
    )
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "fullcycle.cli", "train"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    seconds = time.perf_counter() - start
    row = {"check": name, "ok": done.returncode == 0, "seconds": round(seconds, 1)}
    meta = work / "models/classifier/fullcycle.json"
    if meta.is_file():
        row["val_f1_macro"] = json.loads(meta.read_text()).get("val_f1_macro")
    share = [ln for ln in done.stdout.splitlines() if "parameters trainable" in ln]
    if share:
        row["note"] = share[0].split(": ", 1)[-1]
    if done.returncode != 0:
        row["note"] = (done.stderr.strip().splitlines() or ["failed"])[-1][:120]
    row["model_dir"] = str(work / "models/classifier")
    return row


def run_serve(model_dir: str) -> dict:
    start = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench/serve_load.py"),
            "--model-dir",
            model_dir,
            "--seconds",
            "5",
            "--rounds",
            "1",
            "--malformed",
            "200",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    tail = [ln for ln in done.stdout.splitlines() if ln.strip()][-6:]
    return {
        "check": "serve",
        "ok": done.returncode == 0,
        "seconds": round(time.perf_counter() - start, 1),
        "note": " | ".join(tail)[:400],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--skip", action="append", default=[], choices=["gpu", "ddp", "lora", "serve"])
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = ap.parse_args()

    import torch

    if not torch.cuda.is_available():
        print(
            "gpu_check: no CUDA GPU on this machine (torch.cuda.is_available() is False): nothing to check."
        )
        return 0
    if not (ROOT / "data/processed/labels.json").is_file():
        print(
            "gpu_check: data/processed is missing: run `dvc repro prepare` (or `dvc pull`) first."
        )
        return 2
    gpus = torch.cuda.device_count()
    names = ", ".join(torch.cuda.get_device_name(i) for i in range(gpus))
    print(
        f"gpu_check: {gpus} GPU(s): {names}; torch {torch.__version__}, CUDA {torch.version.cuda}"
    )
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    epochs = f"trainer.max_epochs={args.epochs}"
    plan = [
        ("gpu", ["trainer=gpu", epochs]),
        ("ddp", ["trainer=ddp", epochs]),
        ("lora", ["trainer=gpu", epochs, "model.peft=lora", "train.lr=5e-4"]),
    ]
    scratch = Path(tempfile.mkdtemp(prefix="gpu_check."))
    rows = []
    try:
        for name, overrides in plan:
            if name in args.skip:
                continue
            rows.append(run_train(name, overrides, scratch))
            print(f"  {name}: {rows[-1]}", flush=True)
        trained = next((r["model_dir"] for r in rows if r["check"] == "gpu" and r["ok"]), None)
        if "serve" not in args.skip and trained:
            rows.append(run_serve(trained))
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    print()
    print("| check | ok | seconds | val macro-F1 | note |")
    print("|---|---|---|---|---|")
    for r in rows:
        f1 = r.get("val_f1_macro")
        print(
            f"| {r['check']} | {'yes' if r['ok'] else 'NO'} | {r['seconds']} | "
            f"{'-' if f1 is None else f'{f1:.4f}'} | {r.get('note', '')} |"
        )
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
