"""How fast is `fullcycle init` on a large file? (target: a 100k-row CSV in <= 30 s, most of it
validation)

On one generated file (BBC News sentences, 1-4 per text, so ~20-100 words; five classes; columns
`message` / `team`, not the defaults), side by side:
  1. `fullcycle init DIR --data FILE ...` as a user types it (a fresh process: imports count), with
     a fresh template store, as on a machine's first init;
  2. `fullcycle data validate FILE ...` as a user types it: the validation alone;
  3. init again in this process with a timer on each step, to say where the rest goes.

    python bench/init_scale.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd

from fullcycle.core.sources import read_bbc_news
from fullcycle.lifecycle.reproduced import cpu

TARGET_S = 30.0
COLUMNS = ["--text-col", "message", "--label-col", "team"]


def make_csv(path: Path, rows: int, seed: int = 0) -> None:
    """`rows` distinct texts of 1-4 BBC sentences of one topic each, with that topic."""
    corpus = read_bbc_news()
    by_topic: dict[str, list[str]] = defaultdict(list)
    for text, label in zip(corpus["text"], corpus["label"], strict=True):
        by_topic[label] += [s.strip() for s in text.split(". ") if len(s.split()) > 4]
    rng = random.Random(seed)
    topics = sorted(by_topic)
    out = []
    for i in range(rows):
        topic = topics[i % len(topics)]
        body = ". ".join(rng.choices(by_topic[topic], k=rng.randint(1, 4)))
        out.append((f"{body} (#{i})", topic))
    pd.DataFrame(out, columns=["message", "team"]).to_csv(path, index=False)


def timed_process(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    took = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"{' '.join(cmd)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return took


@contextlib.contextmanager
def step_timers() -> Iterator[dict[str, float]]:
    """Wrap init's steps (looked up by name when init runs them) with timers."""
    import copier

    from fullcycle.core import params
    from fullcycle.lifecycle import gitutil
    from fullcycle.project import init, store

    spent: dict[str, float] = defaultdict(float)
    saved: list[tuple[object, str, Callable]] = []

    def wrap(owner: object, name: str, label: Callable[..., str] | str) -> None:
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                key = label(*args) if callable(label) else label
                spent[key] += time.perf_counter() - start

        saved.append((owner, name, original))
        setattr(owner, name, timed)

    wrap(init, "check_data", "validate the data (check_data)")
    wrap(store, "ensure_version", "template store (ensure_version)")
    wrap(copier, "run_copy", "render the template (copier)")
    wrap(gitutil, "git", lambda *a: f"git {a[0]}")
    wrap(gitutil, "dvc", lambda *a: f"dvc {a[0]}")
    wrap(init, "use_data", "point conf/ at the file (use_data)")
    wrap(params, "write", "compose params.yaml")
    wrap(init, "lock_text", "requirements.lock (lock_text)")
    try:
        yield spent
    finally:
        for owner, name, original in reversed(saved):
            setattr(owner, name, original)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    fullcycle = str(Path(sys.executable).with_name("fullcycle"))
    print(f"CPU: {cpu() or 'unknown'}, {os.cpu_count()} cores; load {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        data = tmp_path / "tickets.csv"
        make_csv(data, args.rows)
        words = pd.read_csv(data)["message"].str.split().str.len()
        print(
            f"file: {args.rows:,} rows, {data.stat().st_size / 1e6:.1f} MB CSV, 5 classes, "
            f"{words.median():.0f} words a text (median; {words.min()}-{words.max()})"
        )
        env = os.environ | {
            "FULLCYCLE_TEMPLATE_STORE": str(tmp_path / "store"),
            "DVC_NO_ANALYTICS": "1",
            "GIT_AUTHOR_NAME": "bench",
            "GIT_AUTHOR_EMAIL": "bench@localhost",
            "GIT_COMMITTER_NAME": "bench",
            "GIT_COMMITTER_EMAIL": "bench@localhost",
        }
        init_s = timed_process(
            [fullcycle, "init", str(tmp_path / "p1"), "--data", str(data), *COLUMNS], env
        )
        validate_s = timed_process([fullcycle, "data", "validate", str(data), *COLUMNS], env)

        from fullcycle.cli import main as cli

        os.environ.update(env)
        with step_timers() as spent, contextlib.redirect_stdout(io.StringIO()):
            start = time.perf_counter()
            code = cli(["init", str(tmp_path / "p2"), "--data", str(data), *COLUMNS])
            inside_s = time.perf_counter() - start
        assert code == 0

    verdict = "met" if init_s <= TARGET_S else "MISSED"
    print(
        f"{'`fullcycle init` process':<40}{init_s:7.1f} s   (target <= {TARGET_S:.0f} s: {verdict})"
    )
    print(
        f"{'`fullcycle data validate` process':<40}{validate_s:7.1f} s   ({validate_s / init_s:.0%} of init)"
    )
    print(f"{'the rest':<40}{init_s - validate_s:7.1f} s")
    print(f"\ninit's steps, in this process ({inside_s:.1f} s; imports warm, template store warm):")
    for step, took in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"  {step:<38}{took:7.2f} s")
    print(f"  {'other':<38}{inside_s - sum(spent.values()):7.2f} s")


if __name__ == "__main__":
    main()
