"""The production loop's workflows: monitor.yml judges the versioned traffic and, on drift, exports
texts to label and opens one issue; retrain.yml retrains on new labelled data and opens the PR.
Every fullcycle/dvc command they run is parsed by the real CLIs (an unknown one fails)."""

from __future__ import annotations

import pytest

from fullcycle.cli import build_parser
from tests.lifecycle.test_workflows import commands, load

LOOP = ["monitor.yml", "retrain.yml"]


@pytest.mark.parametrize("name", LOOP)
def test_every_command_parses(name):
    from dvc.cli import parse_args as dvc_parse

    found = commands(load(name))
    assert found
    parser = build_parser()
    for argv in found:
        if argv[0] == "fullcycle":
            parser.parse_args(argv[1:])  # SystemExit (a failure) on an unknown command or flag
        else:
            dvc_parse(argv[1:])


def test_monitor_judges_versioned_traffic_and_exports_labels_on_drift():
    workflow = load("monitor.yml")
    assert workflow[True]["push"]["paths"] == ["data/production/*.dvc"]
    steps = workflow["jobs"]["drift"]["steps"]
    runs = [" ".join(c) for c in commands(workflow)]
    assert runs.index("dvc pull --allow-missing") < runs.index("fullcycle monitor --fail-on-drift")
    export = next(s for s in steps if "label export" in str(s.get("run", "")))
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    issue = next(s for s in steps if "fullcycle issue" in str(s.get("run", "")))
    for step in (export, upload, issue):
        assert step["if"] == "steps.monitor.outputs.exit_code == '1'"  # drift only, never errors
    assert upload["with"]["path"] == "labelling/"
    assert "ARTIFACT_URL" in issue["run"] and "artifact-url" in issue["env"]["ARTIFACT_URL"]


def test_retrain_runs_on_labelled_data_and_opens_the_promotion_pr():
    workflow = load("retrain.yml")
    assert workflow[True]["push"] == {"branches": ["main"], "paths": ["data/raw/**.dvc"]}
    runs = [" ".join(c) for c in commands(workflow)]
    assert runs == ["dvc pull --allow-missing", "dvc exp run -n x", "fullcycle promote x"]
