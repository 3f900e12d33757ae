"""The whole lifecycle with real git, DVC, GTO and BentoML, and the fake GitHub API:
data add -> exp run -> exp best -> promote (PR) -> merge -> release (tags in origin) -> history."""

from __future__ import annotations

import json
import time

from fullcycle.cli import main
from fullcycle.lifecycle import experiments
from tests.conftest import run


def test_data_to_release(sandbox, github, capsys):
    # data add and two experiments ran in the session fixture, through the real CLI
    subjects = sandbox.git("log", "--format=%s", "main").splitlines()
    assert subjects[0].startswith("data: news.csv — 200 rows, 5 classes, md5 ")
    assert sorted(name for name, _, _ in experiments.exp_refs()) == ["good", "weak"]

    # exp best: the highest test macro-F1 of HEAD's experiments, with its params and metrics
    assert main(["exp", "best", "--json"]) == 0
    best = json.loads(capsys.readouterr().out)
    _, ranked = experiments.show()
    scores = {e.name: e.metric("test.f1_macro") for e in ranked}
    assert best["name"] in scores and best["value"] == max(scores.values())
    assert best["params_changed"]["model.name_or_path"] == "tiny"
    assert main(["exp", "best"]) == 0
    assert f"best experiment: {best['name']}" in capsys.readouterr().out

    # promote the best one (no EXP argument): a PR on the fake GitHub
    start = time.perf_counter()
    assert main(["promote"]) == 0
    print(f"promote (no dvc repro): {time.perf_counter() - start:.1f}s")
    branch = f"promote/{best['name']}"
    [pull] = github.state.pulls
    assert pull["head"]["ref"] == branch and pull["base"]["ref"] == "main"
    assert pull["title"].startswith(f"Promote {best['name']}: test.f1_macro ")
    assert "### Params (vs `main`)" in pull["body"] and "### Model card" in pull["body"]

    # GitHub merges the PR; the push to main runs `fullcycle release` (with the Bento)
    sandbox.git("merge", "-q", "--no-ff", branch, "-m", f"Merge pull request #1 from {branch}")
    sandbox.git("push", "-q", "origin", "main")
    assert main(["release"]) == 0
    out = capsys.readouterr().out
    assert "registered classifier@v0.1.0" in out
    assert "as bento fullcycle-classifier:v0.1.0," in out  # the bento carries the release version
    tags = sandbox.origin_git("tag", "--list").split()
    assert sorted(tags) == ["classifier#dev#1", "classifier@v0.1.0"]

    # history, through the installed console script
    done = run(sandbox.root, "fullcycle", "history")
    kinds = [line.split()[2] for line in done.stdout.splitlines()[2:]]
    assert kinds == ["data", "promotion", "release", "stage"]
    assert f"experiment {best['name']}" in done.stdout and "classifier v0.1.0 → dev" in done.stdout
