"""What does `fullcycle tune` add per trial on top of the training itself?

In a scratch fullcycle project (the tiny model, 40 texts per class, 1 epoch), after one
`dvc repro prepare`:
  train   `fullcycle train` alone, as `dvc exp run` would call it (params composed from conf/)
  trial   one `fullcycle tune` trial (ask -> `dvc exp run -S ... train` -> read metrics -> tell),
          its duration as Optuna records it
The two are interleaved (train, tune trial, train, tune trial, ...) so that a shared machine's
drifting load hits both alike. Overhead = median(trial) - median(train): DVC's experiment
bookkeeping (stash, hydra composition, lock, commit of the exp ref) plus Optuna's storage calls.
Target: <= 15 s per trial.

    python bench/tune_overhead.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FIXED = ["model=tiny", "data.max_per_class=40", "trainer.max_epochs=1"]
SPACE = """\
study: bench
targets: [train]
pruner: {type: none}
space:
  train.lr: {type: float, low: 1.0e-4, high: 1.0e-2, log: true}
"""


def sh(cwd: Path, *cmd: str) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.update(HF_HUB_OFFLINE="1", DVC_NO_ANALYTICS="1")

    import optuna

    from fullcycle.core import params
    from tests.conftest import make_project

    base = Path(tempfile.mkdtemp(prefix="tune_overhead."))
    try:
        root = make_project(base / "project", FIXED)
        (base / "space.yaml").write_text(SPACE)
        sh(root, "dvc", "repro", "prepare")
        trains, wall = [], []
        for n in range(1, args.rounds + 1):
            params.write(root / "params.yaml", root / "conf", FIXED)  # what the trial composes
            trains.append(sh(root, "fullcycle", "train"))
            flags = [x for item in FIXED for x in ("-S", item)]
            wall.append(
                sh(
                    root,
                    "fullcycle",
                    "tune",
                    "--space",
                    str(base / "space.yaml"),
                    "--trials",
                    str(n),
                    *flags,
                )
            )
            print(
                f"round {n}: train alone {trains[-1]:.1f}s, tune command {wall[-1]:.1f}s",
                flush=True,
            )
        study = optuna.load_study(
            study_name="bench", storage=f"sqlite:///{root}/.fullcycle/tune/bench.db"
        )
        trials = [(t.datetime_complete - t.datetime_start).total_seconds() for t in study.trials]
        train, trial = statistics.median(trains), statistics.median(trials)
        print()
        print("| per trial (median) | seconds |")
        print("|---|---|")
        print(f"| `fullcycle train` alone | {train:.1f} |")
        print(f"| tune trial (ask -> dvc exp run -> read -> tell) | {trial:.1f} |")
        print(f"| overhead | {trial - train:.1f} (target <= 15) |")
        print(
            f"| whole `fullcycle tune` command (incl. start-up, report) | {statistics.median(wall):.1f} |"
        )
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
