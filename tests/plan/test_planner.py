"""`fullcycle plan` on a real small project (the tiny model): it times this machine, prints the
estimates, compares them with the last recorded train, reads unprepared data in memory without
writing, and says clearly what is wrong with bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from fullcycle import cli
from fullcycle.core import params
from fullcycle.plan import planner, report
from fullcycle.train import timing
from tests.conftest import SMALL, copy_project

pytestmark = pytest.mark.usefixtures("one_thread")
# conf/ composed with the small project's overrides (as its params.yaml is) and a short timing
QUICK = [*SMALL, "plan.measure.warmup_steps=1", "plan.measure.steps=2"]
QUICK += ["plan.measure.inference_batches=2"]


@pytest.fixture
def trained(tiny_repro: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the tiny project after `dvc repro train` (its train recorded its time)."""
    root = copy_project(tiny_repro, tmp_path / "project")
    monkeypatch.chdir(root)
    return root


def plan(*overrides: str) -> report.Plan:
    with params.overrides([*QUICK, *overrides]):
        return planner.run(params.load())


def test_plan_prints_the_estimates_and_the_last_train_against_them(trained, capsys):
    assert cli.main(["plan", *QUICK]) == 0
    out, err = capsys.readouterr()
    assert "timing 3 training steps" in err  # progress on stderr
    for line in ("  train ", "  tune ", "  dvc repro ", "  gpu         not advised"):
        assert line in out
    assert "goal      test.accuracy >= 0.98 (conf/plan/default.yaml)" in out
    assert "gate      test.f1_macro better than main beyond noise, at 95% confidence" in out
    assert "conf/tune/default.yaml: 12 trials x 1 seed(s), each train, explain, evaluate" in out
    last = timing.read()
    assert last["epochs"] == 1 and last["total_s"] > 0 and last["steps"] > 0
    assert f"last train ({timing.LAST_TRAIN}, {last['finished']}, same params" in out
    assert "(estimate / measured)" in out


def test_the_ratio_is_the_estimate_over_the_recorded_time(trained):
    recorded = timing.read() | {"total_s": 10.0, "fit_s": 8.0}
    timing.LAST_TRAIN.write_text(json.dumps(recorded))
    result = plan()
    assert result.same_run is True
    assert f"ratio {result.train.total_s / 10.0:.2f}" in report.render(result)
    other = plan("seed=7")  # another run key: the comparison says so
    assert other.same_run is False and "OTHER params" in report.render(other)


def test_estimates_scale_with_epochs_and_tune_with_seeds(trained):
    one, three = plan(), plan("trainer.max_epochs=3")
    assert three.train.epochs == 3 and one.train.epochs == 1
    assert three.train.fit_s > 2 * one.train.fit_s
    assert one.train.steps_per_epoch == 8  # 120 training texts, 16 a batch
    assert one.train.steps_per_epoch * one.train.epochs == timing.read()["steps"]  # as trained
    limited = plan("trainer.max_epochs=5", "+trainer.limit_train_batches=2", "+trainer.max_steps=3")
    assert (limited.train.steps_per_epoch, limited.train.epochs) == (2, 2)  # 3 steps: 2 epochs
    seeded = plan("plan.budget.tune_space=quick", "plan.budget.tune_trials=2")
    assert seeded.tune.trials == 2 and seeded.trial == ["train"]


def test_unprepared_data_is_read_and_split_in_memory_writing_nothing(project, capsys):
    assert cli.main(["plan", *QUICK]) == 0
    out = capsys.readouterr().out
    assert "split in memory (data/processed is not prepared)" in out
    assert "train 120, val 20, test 30, production 30 texts, 5 labels" in out
    assert "prepare 0" not in out and "last train: none recorded" in out
    assert not Path("data/processed").exists() and not Path(".fullcycle").exists()


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("no_params", "params.yaml not found in"),
        ("bad_parquet", "data/processed/val.parquet is not a readable Parquet file"),
        ("no_data_file", "data file not found: data/raw/missing.csv"),
        (
            "no_tune_space",
            "plan.budget.tune_space is 'nope' but conf/tune/nope.yaml does not exist",
        ),
        ("bad_target", "plan.goal.target = 1.5: must be a number in (0, 1]"),
    ],
)
def test_bad_input_is_one_clear_error(trained, capsys, setup, message):
    args = ["plan", *QUICK]
    if setup == "no_params":
        Path("params.yaml").unlink()
        args = ["plan"]
    elif setup == "bad_parquet":
        Path("data/processed/val.parquet").write_text("not parquet")
    elif setup == "no_data_file":
        shutil.rmtree("data/processed")
        args += ["data=file", "data.path=data/raw/missing.csv"]
    elif setup == "no_tune_space":
        args += ["plan.budget.tune_space=nope"]
    else:
        args += ["plan.goal.target=1.5"]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
