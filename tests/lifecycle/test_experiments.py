"""`fullcycle exp best`: experiments listed by dvc.api.exp_show, HEAD's committed run ranked too."""

from __future__ import annotations

import json
from pathlib import Path

from fullcycle.cli import main
from fullcycle.lifecycle import experiments
from tests.conftest import run
from tests.lifecycle.conftest import EXP_FLAGS


def test_experiments_come_from_dvc_api(sandbox):
    head, runs = experiments.listing("HEAD")
    assert head.rev == sandbox.git("rev-parse", "HEAD")
    assert sorted(r.name for r in runs) == ["good", "weak"]
    for r in runs:
        assert r.baseline == head.rev and len(r.rev) == 40
        assert r.metric("test.f1_macro") is not None
        assert r.params["model.name_or_path"] == "tiny"
    weak = experiments.find("weak")
    assert weak.rev == next(r.rev for r in runs if r.name == "weak")
    assert weak.baseline == head.rev and weak.params["train.lr"] == 1e-05
    assert experiments.find(weak.rev[:7]).rev == weak.rev  # by sha too


def test_heads_committed_run_is_ranked_and_wins_when_it_is_best(sandbox, github, capsys):
    """main committed a run that scored higher than the experiment run from it: `exp best` names
    HEAD and `promote` (no name) refuses with exit 1 instead of promoting the weaker experiment."""
    run(sandbox.root, "dvc", "exp", "apply", "good", check=False)  # params, dvc.lock, model
    Path("data/.gitignore").write_text("/processed\n")
    metrics = json.loads(Path("reports/eval/metrics.json").read_text())
    metrics["test"]["f1_macro"] = 0.99  # main's committed run scored higher
    Path("reports/eval/metrics.json").write_text(json.dumps(metrics))
    sandbox.git("add", "dvc.lock", "params.yaml", "reports", "data/.gitignore")
    sandbox.git("commit", "-qm", "Train on news.csv")
    # an experiment of HEAD with good's params (dvc exp run recomposes conf/, so -S them again):
    # evaluate re-runs (its metrics differ from dvc.lock), train is restored by the run-cache
    flags = [*EXP_FLAGS, "-S", "train.lr=0.0001"]
    run(sandbox.root, "dvc", "exp", "run", "-q", "-n", "rerun", *flags, "evaluate")
    head, runs = experiments.listing("HEAD")
    assert [r.name for r in runs] == ["rerun"]
    assert runs[0].metric("test.f1_macro") < head.metric("test.f1_macro") == 0.99

    assert main(["exp", "best"]) == 0
    assert "nothing better to promote" in capsys.readouterr().out
    assert main(["exp", "best", "--json"]) == 0
    best = json.loads(capsys.readouterr().out)
    assert best["is_head"] and best["value"] == 0.99
    assert main(["promote"]) == 1
    assert "nothing better to promote" in capsys.readouterr().err
    assert github.state.pulls == []
    # named, it is promoted: the gate reads main from origin, which has no model yet
    assert main(["promote", "rerun"]) == 0
    capsys.readouterr()
    # its predictions are HEAD's (same params, same model): exp diff says so
    assert main(["exp", "diff", "HEAD", "rerun"]) == 0
    assert "the two predict the same label for every one of the" in capsys.readouterr().out


def test_exp_diff_pairs_two_experiments_in_100_columns(sandbox, capsys):
    assert main(["exp", "diff", "weak", "good"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 100, out
    assert lines[0].startswith("good − weak on the test split (")
    assert lines[2].startswith("accuracy") and lines[3].startswith("macro-F1")
    assert any(v in lines[2] for v in ("beyond noise", "not distinguishable"))
    assert "McNemar's exact test" in lines[4] or "same label" in lines[4]
    assert main(["exp", "diff", "weak", "good", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["differences"]["accuracy"]["verdict"] in (
        "better beyond noise", "not distinguishable", "worse beyond noise",
    )  # fmt: skip
    assert main(["exp", "best"]) == 0
    best = capsys.readouterr().out
    assert "best experiment:" in best and "fullcycle exp diff" in best


def test_exp_diff_names_what_it_cannot_resolve(sandbox, capsys):
    assert main(["exp", "diff", "no-such-run", "good"]) == 2
    err = capsys.readouterr().err
    assert "'no-such-run' is neither an experiment, a branch, a tag nor a commit" in err
    assert main(["exp", "diff", "HEAD", "good"]) == 2  # HEAD never ran evaluate here
    assert "has no 'test' predictions in reports/eval/predictions.json" in capsys.readouterr().err


def test_exp_diff_table_fits_100_columns_whatever_the_names():
    from fullcycle.core import evidence
    from fullcycle.lifecycle.exp_diff import table

    labels = ["business", "entertainment", "politics", "sports", "tech"]
    texts, actual = [f"t{i}" for i in range(300)], [labels[i % 5] for i in range(300)]
    a = evidence.Predictions.of(labels, texts, actual, actual[:290] + ["tech"] * 10)
    b = evidence.Predictions.of(labels, texts, actual, actual)
    long = "promote-candidate-with-a-very-long-experiment-name"
    out = table("refs/heads/main-before-the-change", long, evidence.compare(a, b), "test", a)
    assert max(len(line) for line in out.splitlines()) <= 100, out
    assert "better beyond noise" in out and "only for promote-can…: 8" in out
