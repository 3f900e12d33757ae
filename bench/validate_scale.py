"""How fast is `fullcycle data validate` on a large file? (target: 100k-row CSV in <= 10 s)

Side by side, in one process on the same file: fullcycle's full validation (read + clean + every
check + dedup) against the floor of just reading the CSV with pandas.

    python bench/validate_scale.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from omegaconf import OmegaConf

from fullcycle.core.sources import read_bbc_news
from fullcycle.data.prepare import load_and_validate


def make_csv(path: Path, rows: int) -> None:
    """BBC News sentences recombined into `rows` distinct short texts with their topic labels."""
    corpus = read_bbc_news()
    sentences = [
        (s.strip(), label)
        for text, label in zip(corpus["text"], corpus["label"], strict=True)
        for s in text.split(". ")
        if len(s.split()) > 4
    ]
    out = [
        (f"{sentences[i % len(sentences)][0]} (#{i})", sentences[i % len(sentences)][1])
        for i in range(rows)
    ]
    pd.DataFrame(out, columns=["text", "label"]).to_csv(path, index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.csv"
        make_csv(path, args.rows)
        size_mb = path.stat().st_size / 1e6

        start = time.perf_counter()
        pd.read_csv(path, dtype=str, keep_default_na=False)
        read_s = time.perf_counter() - start

        cfg = OmegaConf.create(
            {
                "source": "file",
                "text_col": "text",
                "label_col": "label",
                "labels": None,
                "min_rows_per_class": 10,
            }
        )
        start = time.perf_counter()
        result = load_and_validate(cfg, path=str(path))
        validate_s = time.perf_counter() - start

        # the command a user types, imports and all
        cli = shutil.which("fullcycle") or str(Path(sys.executable).parent / "fullcycle")
        start = time.perf_counter()
        done = subprocess.run([cli, "data", "validate", str(path)], capture_output=True, text=True)
        cli_s = time.perf_counter() - start
    assert done.returncode == 0, done.stderr
    assert result.ok, result.problems[:3]
    print(f"file: {args.rows:,} rows, {size_mb:.1f} MB CSV")
    print(f"{'pandas.read_csv only':<34}{read_s:8.2f} s")
    print(
        f"{'fullcycle data validate':<34}{validate_s:8.2f} s   "
        f"({validate_s / read_s:.1f}x the bare read; target <= 10 s: "
        f"{'met' if validate_s <= 10 else 'MISSED'})"
    )
    print(
        f"{'`fullcycle data validate` process':<34}{cli_s:8.2f} s   "
        f"(target <= 10 s: {'met' if cli_s <= 10 else 'MISSED'})"
    )


if __name__ == "__main__":
    main()
