"""How long `fullcycle plan` takes on this project (the issue's bound: <= 60 s on this CPU).

Runs `fullcycle plan` as a user would (a fresh process, so Python's imports count), in the
project root, with the configured model (MiniLM by default), and prints its wall time against the
target, the machine's load and the plan's own estimates.

    python bench/plan.py [OVERRIDES ...]     # e.g. python bench/plan.py model=tiny
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from fullcycle.lifecycle.reproduced import cpu

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 60.0


def main() -> int:
    overrides = sys.argv[1:]
    fullcycle = Path(sys.executable).with_name("fullcycle")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "DVC_NO_ANALYTICS": "1"}
    print(f"CPU: {cpu() or 'unknown'}, {os.cpu_count()} cores; load {os.getloadavg()[0]:.2f}")
    started = time.perf_counter()
    done = subprocess.run(
        [str(fullcycle), "plan", *overrides], cwd=ROOT, env=env, capture_output=True, text=True
    )
    took = time.perf_counter() - started
    print(done.stdout.rstrip())
    if done.returncode:
        print(done.stderr.rstrip(), file=sys.stderr)
        return done.returncode
    verdict = "within" if took <= TARGET_S else "OVER"
    print(
        f"\nfullcycle plan{' ' + ' '.join(overrides) if overrides else ''}: {took:.1f} s wall, "
        f"{verdict} the {TARGET_S:.0f} s target ({took / TARGET_S:.2f}x); "
        f"load after {os.getloadavg()[0]:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
