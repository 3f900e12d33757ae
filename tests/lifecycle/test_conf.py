"""conf/ edits: the overrides of a run written back into conf/ with a YAML round-trip."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from fullcycle.core import params
from fullcycle.core.errors import FullcycleError
from fullcycle.lifecycle import conf
from tests.conftest import REPO


@pytest.fixture
def conf_dir(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "conf", tmp_path / "conf")
    return tmp_path / "conf"


def test_overrides_land_in_the_right_files_with_comments_kept(conf_dir):
    overrides = ["model=tiny", "trainer=gpu", "train.lr=3e-5", "+train.extra=[1, 2]", "seed=7"]
    target = params.compose(conf_dir, overrides)
    changed = conf.write_params(conf_dir, target)
    assert changed == ["config.yaml", "train/default.yaml"]
    assert params.compose(conf_dir) == target
    config = (conf_dir / "config.yaml").read_text()
    assert "- model: tiny      # which transformer to fine-tune" in config
    assert "- trainer: gpu     # Lightning Trainer profile" in config
    assert re.search(r"(?m)^seed: 7 +# training: weights init", config)  # comment kept
    train = (conf_dir / "train/default.yaml").read_text()
    assert "lr: 3.0e-05\n" in train and "extra:\n  - 1\n  - 2\n" in train
    assert "# linear warmup over this share" in train
    assert conf.write_params(conf_dir, target) == []  # already there: nothing to write


def test_what_conf_cannot_express_is_refused(conf_dir):
    target = params.compose(conf_dir)
    del target["train"]["lr"]  # a key removed: no value in conf/ composes to that
    with pytest.raises(FullcycleError, match="train.lr"):
        conf.write_params(conf_dir, target)
