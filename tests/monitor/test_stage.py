"""`fullcycle monitor` end to end: a real `dvc repro` of the stage, the CI gate, ad-hoc files,
empty and tiny current sets, bad input. A small project (40 texts per class, tiny model)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from omegaconf import OmegaConf

from fullcycle.cli import main
from fullcycle.core import params
from fullcycle.core.errors import FullcycleError
from fullcycle.monitor import inputs

from ..conftest import SMALL, copy_project, git, run
from .conftest import docstrings, write_batch

OVERRIDES = [*SMALL, "monitor.min_rows=20", "monitor.permutations=100"]


@pytest.fixture(scope="module")
def small_project(tmp_path_factory: pytest.TempPathFactory, tiny_repro: Path) -> Path:
    """The pipeline up to the model, run by DVC: 120 training texts, 30 held-out production
    texts, the tiny model trained for one epoch (a copy of the run's `tiny_repro`), with the
    monitor settings above composed into params.yaml and committed."""
    root = copy_project(tiny_repro, tmp_path_factory.mktemp("monitor") / "project")
    params.write(root / "params.yaml", root / "conf", OVERRIDES)
    git(root, "commit", "-qam", "monitor settings for the tests")
    return root


@pytest.fixture
def in_project(small_project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(small_project)
    return small_project


def summary_of(path: Path) -> dict:
    return json.loads((path / "summary.json").read_text())


def test_dvc_repro_runs_the_stage_and_reruns_on_new_traffic(small_project: Path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    done = run(small_project, "dvc", "repro", "monitor")
    assert "Running stage 'monitor'" in done.stdout and "Running stage 'train'" not in done.stdout
    assert "no drift detected" in done.stdout  # the plain-text verdict
    report = small_project / "reports" / "drift"
    summary = summary_of(report)
    assert summary["verdict"] == "no drift", summary
    assert summary["sources"]["current"].startswith("held-out production split")
    assert summary["rows"] == {
        "reference": 120,
        "current": 30,
        "current_labelled": 30,
        "current_duplicates_dropped": 0,
        "test_baseline": 30,
    }
    assert set(summary["checks"]) == {
        "text",
        "text_length",
        "word_count",
        "non_letter_share",
        "oov_share",
        "embeddings",
        "predictions",
        "accuracy_drop",
    }
    html = (report / "report.html").read_text(encoding="utf-8")
    assert "Value drift for text" in html and "Drift in embeddings" in html

    shown = run(small_project, "dvc", "metrics", "show", "--json")
    assert json.loads(shown.stdout)[""]["data"]["reports/drift/metrics.json"]["data"] == {
        "drift": "no drift"
    }
    again = run(small_project, "dvc", "repro", "monitor")
    assert "Running stage" not in again.stdout

    # versioned traffic is a dependency: a new batch reruns the stage
    served = write_batch(small_project / "data/production/2026-01-01_0000.parquet", ["a text"])
    try:
        status = run(small_project, "dvc", "status", "monitor")
        assert "modified:           data/production" in status.stdout, status.stdout
    finally:
        served.unlink()


def test_fail_on_drift_gates_versioned_traffic(in_project: Path, tmp_path: Path, capsys):
    served = in_project / "data/production/2026-01-01_0000.parquet"
    write_batch(served, docstrings()[:60])  # as `traffic snapshot` does
    out = tmp_path / "report"
    try:
        assert main(["monitor", "--fail-on-drift", "--out", str(out)]) == 1
    finally:
        served.unlink()
    assert "DRIFT: drift detected in" in capsys.readouterr().out
    summary = summary_of(out)
    assert summary["drift_detected"] and summary["rows"]["current_labelled"] == 0
    assert summary["sources"]["current"].startswith("versioned traffic (1 batch(es)")
    assert "accuracy_drop" not in summary["checks"]  # unlabelled: no quality check


def test_current_file_with_labels_passes_the_gate(in_project: Path, tmp_path: Path, capsys):
    held_out = tmp_path / "held_out.csv"
    pd.read_parquet(in_project / "data/processed/production.parquet").to_csv(held_out, index=False)
    out = tmp_path / "report"
    assert main(["monitor", "--current", str(held_out), "--fail-on-drift", "--out", str(out)]) == 0
    assert "no drift detected (8 checks)" in capsys.readouterr().out
    summary = summary_of(out)
    assert summary["sources"]["current"] == str(held_out) and "accuracy_drop" in summary["checks"]


@pytest.mark.parametrize("content", ["", "text\n", '{"text": "only one text"}\n' * 3])
def test_empty_and_tiny_current_sets_are_not_judged(in_project, tmp_path, capsys, content):
    path = tmp_path / ("current.csv" if content.startswith("text") else "current.jsonl")
    path.write_text(content, encoding="utf-8")
    out = tmp_path / "report"
    assert main(["monitor", "--current", str(path), "--fail-on-drift", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "too few texts to judge drift" in printed and "monitor.min_rows" in printed
    summary = summary_of(out)
    assert summary["verdict"] == "too few rows" and not summary["drift_detected"]
    assert summary["rows"]["current"] == (1 if "only one" in content else 0)  # repeats count once
    assert "too few texts" in (out / "report.html").read_text()


def test_an_empty_batch_falls_back_to_the_production_split_and_says_so(in_project):
    cfg = params.load()
    served = write_batch(in_project / "data" / "production" / "2026-01-01_0000.parquet", [])
    try:
        current = inputs.current(cfg.data, cfg.monitor, _labels(in_project))
    finally:
        served.unlink()
    assert current.source.startswith("held-out production split") and len(current) == 30
    assert "no versioned traffic in data/production/ yet" in current.source


def test_window_takes_the_newest_batches(in_project):
    cfg = params.load()
    folder = in_project / "data" / "production"
    paths = [
        write_batch(
            folder / f"2026-01-0{day}_0000.parquet", [f"day {day} text {i}" for i in range(3)]
        )
        for day in (1, 2, 3)
    ]
    try:
        every = inputs.current(cfg.data, cfg.monitor, _labels(in_project))
        monitor = OmegaConf.merge(cfg.monitor, {"window": 2})
        newest = inputs.current(cfg.data, monitor, _labels(in_project))
        bad = OmegaConf.merge(cfg.monitor, {"window": 0})
        with pytest.raises(FullcycleError, match="monitor.window"):
            inputs.current(cfg.data, bad, _labels(in_project))
        # a batch committed (its .dvc file) but not pulled is an error, not a silent fallback
        (folder / "2026-01-04_0000.parquet.dvc").write_text("outs: []\n")
        with pytest.raises(FullcycleError, match="dvc pull data/production"):
            inputs.current(cfg.data, cfg.monitor, _labels(in_project))
    finally:
        for path in [*paths, folder / "2026-01-04_0000.parquet.dvc"]:
            path.unlink(missing_ok=True)
    assert len(every) == 9 and "3 batch(es)" in every.source
    assert len(newest) == 6 and "2026-01-02_0000 to 2026-01-03_0000" in newest.source
    assert set(newest.texts["text"].str[:5]) == {"day 2", "day 3"}


def _labels(project: Path) -> list[str]:
    return json.loads((project / "data/processed/labels.json").read_text())


def test_bad_current_file_is_a_clear_error_and_writes_nothing(in_project, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("body,label\nsome text,tech\n", encoding="utf-8")
    out = tmp_path / "report"
    assert main(["monitor", "--current", str(bad), "--out", str(out)]) == 2  # 1 means drift
    err = capsys.readouterr().err
    assert f"{bad}, column 'text': column not found (the file has: body, label)" in err
    assert not out.exists()

    assert main(["monitor", "--current", str(tmp_path / "missing.csv"), "--out", str(out)]) == 2
    assert "data file not found" in capsys.readouterr().err and not out.exists()


def test_missing_model_says_what_to_run(in_project, tmp_path, monkeypatch, capsys):
    shutil.copytree(in_project / "data", tmp_path / "data")
    shutil.copy(in_project / "params.yaml", tmp_path / "params.yaml")
    monkeypatch.chdir(tmp_path)
    assert main(["monitor", "--out", str(tmp_path / "out")]) == 2
    assert "run `fullcycle train`" in capsys.readouterr().err


def test_a_crash_exits_2_with_one_line_and_the_traceback_only_with_debug(
    in_project, tmp_path, monkeypatch, capsys
):
    """A corrupt model (not a FullcycleError): exit 2, never 1, which a CI gate reads as drift.
    In-process (`main` is what the `fullcycle` script calls): the exit code and stderr are the
    script's, without three interpreter start-ups."""
    shutil.copytree(in_project / "data", tmp_path / "data")
    shutil.copytree(in_project / "models", tmp_path / "models")
    shutil.copy(in_project / "params.yaml", tmp_path / "params.yaml")
    weights = tmp_path / "models" / "classifier" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])  # a truncated download
    monkeypatch.chdir(tmp_path)
    assert main(["monitor", "--fail-on-drift"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    [line] = err.strip().splitlines()[-1:]
    assert line.startswith("error: ") and "--debug" in line
    assert not (tmp_path / "reports").exists()
    for argv in (["--debug", "monitor"], ["monitor", "--debug"]):
        assert main(argv) == 2
        assert "Traceback (most recent call last)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("confidence", 1.5, "monitor.confidence = 1.5: must be a number in [0.5, 0.99999]"),
        ("min_rows", 5, "monitor.min_rows = 5: must be a whole number >= 20"),
        ("permutations", "many", "monitor.permutations = 'many': must be a whole number >= 20"),
        ("thresholds", {"txt": 0.6}, "monitor.thresholds.txt is not a setting (did you mean"),
        ("thresholds", {"txt": 0.6}, "monitor.thresholds.accuracy_drop is missing: must be a"),
        ("kinds", {"fail_on": ["drift"]}, "monitor.kinds.fail_on = ['drift']: must be a list out"),
    ],
)
def test_bad_monitor_settings_are_clear_errors(tmp_path, monkeypatch, capsys, key, value, says):
    cfg = OmegaConf.create(params.compose(Path(__file__).parents[2] / "conf"))
    cfg.monitor[key] = value
    OmegaConf.save(cfg, tmp_path / "params.yaml")
    monkeypatch.chdir(tmp_path)
    assert main(["monitor"]) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err
    assert not (tmp_path / "reports").exists()


def test_conf_thresholds_cover_every_check():
    from fullcycle.core.schema import DRIFT_KINDS, Thresholds
    from fullcycle.monitor.checks import MEASURES
    from fullcycle.monitor.kinds import KINDS

    conf = OmegaConf.load(Path(__file__).parents[2] / "conf" / "monitor" / "default.yaml")
    assert set(conf.thresholds) == set(MEASURES) == set(Thresholds.model_fields)
    assert DRIFT_KINDS == KINDS  # what monitor.kinds.fail_on may name


def test_two_runs_write_the_same_report_bytes(in_project, tmp_path):
    """report.html is a DVC output: Evidently's random widget ids and its unseeded TSNE must not
    make the same inputs give new bytes (a fresh clone's `make repro` would end dirty)."""
    from fullcycle.monitor import stage

    for out in ("one", "two"):
        stage.run(params.load(), out_dir=tmp_path / out)
    one, two = ((tmp_path / out / "report.html").read_bytes() for out in ("one", "two"))
    assert one == two and b"Drift in embeddings" in one


def test_stable_ids_number_each_random_id_by_first_appearance():
    from fullcycle.monitor.stage import stable_ids

    page = 'var metric_{a} = {{"id": "{u}", "ref": "{u}", "other": "{v}"}}; draw(metric_{a});'
    first = page.format(
        a="0f" * 16,
        u="01a22d5f-cf6c-7d0f-a052-012dbdd941ef",
        v="9" * 8 + "-1111-2222-3333-" + "4" * 12,
    )
    second = page.format(
        a="97" * 16,
        u="01a22da1-83f1-7119-a30f-46627926e956",
        v="8" * 8 + "-1111-2222-3333-" + "4" * 12,
    )
    assert stable_ids(first) == stable_ids(second)
    assert stable_ids(first).count("00000001-0000-0000-0000-000000000000") == 2  # refs kept
    assert f"metric_{0:032x}" in stable_ids(first) and "0f0f" not in stable_ids(first)


def test_by_hand_it_leaves_the_pipelines_outputs_alone(in_project: Path, capsys):
    """`fullcycle monitor` without --out writes to the git-ignored reports/adhoc/drift/ and says
    so; the stage's committed reports/drift/ stays as `dvc repro` left it."""
    from fullcycle.monitor.stage import BY_HAND_DIR

    pipeline = in_project / "reports/drift"
    before = {p.name: p.read_bytes() for p in pipeline.iterdir()} if pipeline.is_dir() else {}
    assert main(["monitor"]) == 0
    printed = capsys.readouterr().out
    assert f"report: {BY_HAND_DIR / 'report.html'}" in printed
    assert "written by `dvc repro monitor`" in printed
    assert {"report.html", "summary.json", "metrics.json"} <= {
        p.name for p in (in_project / BY_HAND_DIR).iterdir()
    }
    after = {p.name: p.read_bytes() for p in pipeline.iterdir()} if pipeline.is_dir() else {}
    assert after == before
    ignored = run(in_project, "git", "check-ignore", str(BY_HAND_DIR / "summary.json"))
    assert ignored.returncode == 0
