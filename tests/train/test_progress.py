"""Plain progress lines off a terminal: a real Lightning fit of the tiny model (the fixtures of
test_module.py), read through what it printed."""

import re

import lightning as L
import pytest

from fullcycle.core.classifier import build_model
from fullcycle.core.finetune import TextClassifier
from fullcycle.train.progress import PlainProgress, is_terminal
from tests.train.test_module import TINY, data  # noqa: F401  (data: the fixture, reused)

pytestmark = pytest.mark.usefixtures("one_thread")


def fit_with(progress: PlainProgress, datamodule, epochs: int = 2) -> None:
    module = TextClassifier(
        build_model(TINY, ["x", "y"]),
        ["x", "y"],
        lr=1e-3,
        weight_decay=0.01,
        warmup_ratio=0.1,
        seed=0,
    )
    trainer = L.Trainer(
        max_epochs=epochs,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[progress],
    )
    trainer.fit(module, datamodule=datamodule)


def test_each_epoch_and_every_few_steps_is_one_plain_line(data, capsys):  # noqa: F811
    fit_with(PlainProgress(lines_per_epoch=3), data)  # 8 batches an epoch: a line every 3 steps
    lines = capsys.readouterr().out.splitlines()
    steps = [line for line in lines if " step " in line and " done: " not in line]
    assert [re.search(r"step (\d+/\d+)", line).group(1) for line in steps] == [
        "3/8", "6/8", "3/8", "6/8"
    ]  # fmt: skip
    assert re.fullmatch(
        r"train: epoch 1/2 step 3/8: train loss \d+\.\d{4} \(mean of the last 3 steps\), "
        r"\d+\.\ds",
        steps[0],
    ), steps[0]
    epochs = [line for line in lines if " done: " in line]
    assert len(epochs) == 2, lines
    pattern = (
        r"train: epoch (\d)/2 done: 8 steps \(global step (\d+)\), train loss \d+\.\d{4}, "
        r"val accuracy \d\.\d{4}, f1_macro \d\.\d{4}, loss \d+\.\d{4}, "
        r"\d+\.\ds \(total \d+\.\ds\)"
    )
    found = [re.fullmatch(pattern, line) for line in epochs]
    assert all(found), epochs
    assert [(m.group(1), m.group(2)) for m in found] == [("1", "8"), ("2", "16")]


def test_under_pytest_the_output_is_not_a_terminal():
    assert not is_terminal()  # captured streams: what a log file looks like to the stage
