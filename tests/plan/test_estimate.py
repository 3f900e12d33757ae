"""The arithmetic of the estimates (no model): steps an epoch, the fitted cost of a batch, which
stages a tune trial runs, the gpu advice and the comparison with the last recorded train."""

from __future__ import annotations

import pytest

from fullcycle.core.datamodule import POOL_BATCHES, Encoded
from fullcycle.plan import estimate, measure, pipeline, report
from tests.conftest import REPO

WORK = estimate.Work(
    rows={"train": 1000, "val": 100, "test": 300, "production": 50},
    predict_s={"train": 40.0, "val": 4.0, "test": 12.0, "production": 2.0},
    token_step_s=0.001,
    load_s=1.0,
    start_s=5.0,
    read_s=None,
    params_m=22.7,
    explain_tokens=128,
)
TRAIN = estimate.Train(
    epochs=3,
    steps_per_epoch=80,
    setup_s=10,
    epoch_steps_s=100,
    val_s=20,
    sanity_s=1,
    checkpoint_s=2,
    save_s=15,
)


def test_an_epoch_has_a_short_batch_per_pool_when_bucketing():
    pool = 16 * POOL_BATCHES
    assert estimate.steps_in_epoch(1272, 16, bucketed=True, pool_batches=POOL_BATCHES) == 80
    assert estimate.steps_in_epoch(pool + 1, 16, True, POOL_BATCHES) == POOL_BATCHES + 1
    assert estimate.steps_in_epoch(pool + 1, 16, False, POOL_BATCHES) == POOL_BATCHES + 1
    assert estimate.steps_in_epoch(2 * pool - 8, 16, True, POOL_BATCHES) == 2 * POOL_BATCHES


def test_the_counted_epoch_matches_the_sampler_lightning_iterates():
    lengths = [5 + i % 40 for i in range(1000)]
    data = Encoded([[1] * n for n in lengths], [0] * len(lengths))
    for bucket in (True, False):
        batches = measure.epoch_batches(data, 16, bucket, seed=3, window="first")
        assert len(batches) == estimate.steps_in_epoch(1000, 16, bucket, POOL_BATCHES)
        assert sorted(i for b in batches for i in b) == list(range(1000))
    # bucketed batches pad less than random ones: that is what the estimate must see
    padded = {
        bucket: sum(
            measure.padded(data.lengths, b)
            for b in measure.epoch_batches(data, 16, bucket, 3, "first")
        )
        for bucket in (True, False)
    }
    assert padded[True] < 0.8 * padded[False]


def test_a_batch_costs_a_fitted_line_of_its_tokens():
    spread = measure.Timed(tokens=[500, 1000, 2000], seconds=[0.6, 1.1, 2.1])
    a, b = spread.line()
    assert a == pytest.approx(0.1) and b == pytest.approx(0.001)
    assert spread.seconds_for([1000, 1000]) == pytest.approx(2.2)
    same = measure.Timed(tokens=[2048, 2048, 2048], seconds=[1.2, 1.4, 1.3])
    assert same.line() == (0.0, pytest.approx(1.3 / 2048))  # proportional: the median ratio


def test_timed_batches_are_the_largest_for_warmup_then_spread_by_size():
    sizes = list(range(100))
    chosen = measure.pick(sizes, count=4, warmup=2)
    assert chosen[:2] == [99, 98] and chosen[2:] == [12, 37, 62, 87]


def test_lightning_limits_are_a_count_or_a_share():
    assert estimate.limited(80, None) == 80 and estimate.limited(80, 10) == 10
    assert estimate.limited(80, 0.25) == 20 and estimate.limited(80, 1.0) == 80


def test_max_epochs_minus_one_is_planned_as_patience_plus_one():
    assert estimate.epochs(3, 2) == (3, True)
    assert estimate.epochs(-1, 2) == (3, False)


def test_a_tune_trial_runs_the_stages_from_train_to_its_targets():
    stages = pipeline.graph(REPO / "dvc.yaml")
    assert list(stages)[:3] == ["prepare", "baseline", "train"]
    assert pipeline.trial_stages(stages, ["evaluate"]) == ["train", "explain", "evaluate"]
    assert pipeline.trial_stages(stages, ["train"]) == ["train"]
    assert pipeline.trial_stages(stages, ["package"]) == [
        "train", "explain", "evaluate", "optimize", "package"
    ]  # fmt: skip


def test_a_study_is_trials_times_seeds_times_a_trial():
    parts = estimate.stage_parts(TRAIN, WORK, CONF)
    one = estimate.tune(parts, WORK, ["train"], trials=1, seeds=1)
    assert one == pytest.approx(TRAIN.total_s + WORK.start_s + 3.0 + estimate.TRIAL_OVERHEAD_S)
    assert estimate.tune(parts, WORK, ["train"], trials=4, seeds=3) == pytest.approx(12 * one)


CONF = {
    "explain": {"per_class": 2, "n_steps": 50, "budget_token_steps": 200_000},
    "labels": ["a", "b", "c", "d", "e"],
    "plan": {"goal": {"target": 0.98}},
}


def test_repro_sums_every_stage_and_marks_the_rough_ones():
    parts = estimate.stage_parts(TRAIN, WORK, CONF)
    order = ["prepare", "baseline", "train", "explain", "evaluate", "optimize", "package"]
    repro = estimate.repro(parts, WORK, [*order, "monitor"])
    assert [p.name for p in repro] == [*order, "monitor"]
    assert repro[2].seconds == TRAIN.total_s + WORK.start_s + estimate.DVC_STAGE_S
    assert not repro[2].rough and repro[0].rough  # prepare: not timed, data was prepared
    # explain: 20 picks + 2% of 300 test texts misclassified, 128 tokens x 50 steps each
    assert parts["explain"].detail.startswith("166,400 token-steps")


def test_the_gpu_profile_is_advised_only_over_budget():
    assert report.gpu_advice(600, 30, True, None, "cpu").startswith("not advised")
    over = report.gpu_advice(3600, 30, True, None, "cpu")
    assert over.startswith("advised") and "-S trainer=gpu" in over and "has none" in over
    assert "plan.budget.gpu is false" in report.gpu_advice(3600, 30, False, "H200", "cpu")
    assert "already uses accelerator gpu" in report.gpu_advice(3600, 30, True, "H200", "gpu")


def test_the_last_train_is_compared_with_the_estimate():
    last = {"finished": "x", "total_s": TRAIN.total_s / 2, "fit_s": 300.0, "epochs": 3}
    lines = report.last_train_lines(last | {"steps": 240}, True, TRAIN)
    assert "same params, data and code" in lines[0]
    assert "ratio 2.00 (estimate / measured)" in lines[1] and len(lines) == 2
    with_cpu = report.last_train_lines(last | {"cpu_s": TRAIN.total_s}, True, TRAIN, 1.5)
    assert "CPU:  measured" in with_cpu[2] and "ratio 1.50" in with_cpu[2]
    other = report.last_train_lines(last | {"resumed_at_epoch": 2}, False, TRAIN)
    assert "OTHER params" in other[0] and "resumed at epoch 2" in other[-1]
    assert "none recorded" in report.last_train_lines(None, None, TRAIN)[0]
