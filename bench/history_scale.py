"""How long `fullcycle history` takes over a long-lived repository, next to GTO's own `gto history`.

Builds a repo (with `git fast-import`, in a second) holding N lifecycle events written by the same
record grammar the commands use: data-version commits, promotion commits, release tags
(classifier@vX.Y.Z, annotated, with metrics) and stage tags (classifier#prod#N), spread among
ordinary commits. Then times the real console scripts. Target: <= 3 s for 200 events.

    .venv/bin/python bench/history_scale.py [--events 200] [--noise 800] [--repeat 3]
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from fullcycle.lifecycle import records

BIN = Path(sys.executable).parent


def build(root: Path, events: int, noise: int) -> None:
    """events/4 each of data, promotion, release and stage events, among `noise` plain commits."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    stream, mark, when = [], 0, 1_700_000_000
    per_kind = events // 4
    plain_between = max(1, noise // max(1, per_kind))

    def commit(message: str) -> int:
        nonlocal mark, when
        mark += 1
        when += 60
        data = message.encode()
        stream.append(
            f"commit refs/heads/main\nmark :{mark}\ncommitter B <b@b> {when} +0000\n"
            f"data {len(data)}\n{message}\n" + ("" if mark == 1 else f"from :{mark - 1}\n")
        )
        return mark

    def tag(name: str, target: int, message: str) -> None:
        nonlocal when
        when += 60
        data = message.encode()
        stream.append(
            f"tag {name}\nfrom :{target}\ntagger B <b@b> {when} +0000\ndata {len(data)}\n{message}\n"
        )

    for i in range(per_kind):
        for j in range(plain_between):
            commit(f"work {i}.{j}")
        commit(records.DataVersion(f"data/raw/v{i}.csv", 1000 + i, 5, f"{i:032x}").message("b"))
        commit(
            records.Promotion(f"exp-{i}", f"{i:012x}", "test.f1_macro", 0.9, 0.89, 0.85).message()
        )
        merged = commit(f"Merge pull request #{i}")
        version = f"v0.{i + 1}.0"
        release = records.Release(
            "classifier", version, {"test.f1_macro": 0.9, "test.accuracy": 0.91}
        )
        tag(f"classifier@{version}", merged, release.message())
        tag(f"classifier#prod#{i + 1}", merged, f"Assigning stage prod to classifier {version}")
    text = "".join(stream).encode()
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input=text, check=True)
    subprocess.run(["git", "checkout", "-q", "main"], cwd=root, check=True)


def timed(cmd: list[str], cwd: Path, repeat: int) -> tuple[float, str]:
    times, out = [], ""
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr}")
        out = done.stdout
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--noise", type=int, default=800, help="ordinary commits among them")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ["DVC_NO_ANALYTICS"] = "1"
    with tempfile.TemporaryDirectory(prefix="history-bench-") as tmp:
        root = Path(tmp) / "repo"
        start = time.perf_counter()
        build(root, args.events, args.noise)
        print(
            f"built a repo with {args.events} lifecycle events and {args.noise} other commits "
            f"in {time.perf_counter() - start:.1f}s"
        )
        ours, out = timed([str(BIN / "fullcycle"), "history"], root, args.repeat)
        shown = len(out.splitlines()) - 2
        gto, _ = timed([str(BIN / "gto"), "history", "classifier"], root, args.repeat)
        git_log, _ = timed(["git", "log", "--oneline"], root, args.repeat)
    print(f"{'command':<28}{'median s':>10}{'vs fullcycle':>14}")
    for name, seconds in (
        ("fullcycle history", ours),
        ("gto history classifier", gto),
        ("git log --oneline", git_log),
    ):
        print(f"{name:<28}{seconds:>10.2f}{seconds / ours:>13.2f}x")
    print(
        f"fullcycle history listed {shown} events (expected {args.events}); "
        f"target <= 3.0 s: {'met' if ours <= 3.0 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
