"""A real `dvc repro` of the data stages in a temporary git repository (no mocks)."""

import json

from .conftest import git, run


def test_dvc_repro_prepare_and_baseline(project):
    done = run(project, "dvc", "repro", "baseline")
    assert "Running stage 'prepare'" in done.stdout and "Running stage 'baseline'" in done.stdout
    metrics = json.loads((project / "reports/baseline/metrics.json").read_text())
    assert set(metrics["test"]) >= {"accuracy", "f1_macro"}
    summary = json.loads((project / "reports/data/summary.json").read_text())
    assert summary["rows"]["total"] == 200  # data.max_per_class=40 x 5 topics

    # nothing changed: nothing runs
    again = run(project, "dvc", "repro", "baseline")
    assert "didn't change, skipping" in again.stdout and "Running stage" not in again.stdout

    # the baseline is a plain output (its names are the model's), readable as a DVC target
    shown = run(project, "dvc", "metrics", "show", "--json", "reports/baseline/metrics.json")
    assert "f1_macro" in shown.stdout

    # a params change reruns exactly the stages that read it
    git(project, "add", "-A")
    git(project, "commit", "-qm", "repro")
    params = (project / "params.yaml").read_text().replace("C: 10.0", "C: 1.0")
    (project / "params.yaml").write_text(params)
    third = run(project, "dvc", "repro", "baseline")
    assert (
        "Running stage 'baseline'" in third.stdout and "Running stage 'prepare'" not in third.stdout
    )


def test_dvc_repro_reports_bad_data_without_a_traceback(project):
    (project / "bad.csv").write_text("text,label\nonly one row,a\n,b\n")
    params = (project / "params.yaml").read_text()
    params = params.replace("source: bbc", "source: file").replace("path: null", "path: bad.csv")
    (project / "params.yaml").write_text(params)
    done = run(project, "dvc", "repro", "prepare", check=False)
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "bad.csv, row 2, column 'text': text is empty or whitespace only" in output
    assert "Traceback" not in output
    assert not (project / "data" / "processed").exists()
