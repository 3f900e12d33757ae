"""How long `fullcycle promote` takes end to end (gate, branch commit, DVC + git push, PR), without
`dvc repro`: a sandbox repo (bare origin, local DVC remote, fake GitHub API on 127.0.0.1) with one
tiny experiment, then N promotions of it (the first opens the PR, the others update it), next to
a single `dvc exp show` and `dvc push`, two of the steps it contains. Target: <= 20 s.

    .venv/bin/python bench/promote_time.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ.update(
        DVC_NO_ANALYTICS="1",
        HF_HUB_OFFLINE="1",
        BENTOML_DO_NOT_TRACK="true",
        GIT_AUTHOR_NAME="bench",
        GIT_AUTHOR_EMAIL="b@b",
        GIT_COMMITTER_NAME="bench",
        GIT_COMMITTER_EMAIL="b@b",
        PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}",
    )
    from tests.lifecycle.conftest import EXP_FLAGS, EXP_TARGETS, make_sandbox, small_csv
    from tests.lifecycle.fake_github import FakeGitHub

    with tempfile.TemporaryDirectory(prefix="promote-bench-") as tmp:
        start = time.perf_counter()
        box = make_sandbox(Path(tmp) / "sandbox")
        csv = small_csv(box.base / "news.csv")
        sh = dict(cwd=box.root, check=True, capture_output=True)
        subprocess.run(["fullcycle", "data", "add", str(csv)], **sh)
        subprocess.run(["dvc", "exp", "run", "-n", "cand", *EXP_FLAGS, *EXP_TARGETS], **sh)
        subprocess.run(["git", "reset", "-q", "--hard"], **sh)
        print(f"sandbox with one tiny experiment built in {time.perf_counter() - start:.0f}s")
        promote, show_times = [], []
        with FakeGitHub() as github:
            env = os.environ | github.env()
            for _ in range(args.repeat):
                start = time.perf_counter()
                subprocess.run(["fullcycle", "promote", "cand"], env=env, **sh)
                promote.append(time.perf_counter() - start)
                start = time.perf_counter()
                subprocess.run(
                    ["git", "push", "-q", "--force", "origin", "main:refs/heads/x"], **sh
                )
                show_times.append(time.perf_counter() - start)
            opened = len(github.state.pulls)
        start = time.perf_counter()
        subprocess.run(["dvc", "push", "-q"], **sh)
        push_dvc = time.perf_counter() - start
    ours = statistics.median(promote)
    print(f"{'step':<34}{'median s':>10}{'vs promote':>12}")
    for name, seconds in (
        ("fullcycle promote (whole)", ours),
        ("dvc exp show --json (one read)", statistics.median(show_times)),
        ("dvc push (nothing new)", push_dvc),
    ):
        print(f"{name:<34}{seconds:>10.2f}{seconds / ours:>11.2f}x")
    print(
        f"runs: {', '.join(f'{t:.1f}s' for t in promote)}; pull requests opened: {opened} "
        f"(then updated); target <= 20 s: {'met' if max(promote) <= 20 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
