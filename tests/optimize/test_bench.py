"""`fullcycle optimize --bench`: every variant timed in one process, into an uncached report."""

from __future__ import annotations

import json

from fullcycle import cli


def test_bench_times_every_variant_and_writes_an_uncached_report(project_copy, capsys):
    assert cli.main(["optimize", "--bench"]) == 0
    out = capsys.readouterr().out
    assert "| variant | batch-1 p50 ms |" in out and "| int8 |" in out
    report = json.loads((project_copy / "reports" / "optimize" / "bench.json").read_text())
    assert set(report["results"]) == {"torch", "fp32", "int8"}
    for result in report["results"].values():
        assert result["batch1_p50_ms"] > 0 and result["batch32_texts_s"] > 0
    assert report["results"]["torch"]["batch32_vs_torch"] == 1.0
    assert report["skipped"] == {"pruned-int8": "optimize.prune.enabled is false"}
    assert "load_average_before" in report["machine"]
    assert not (project_copy / "models" / "optimized").exists()  # the stage's outputs untouched
