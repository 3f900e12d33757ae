import json

import pytest
from omegaconf import OmegaConf

from fullcycle import baseline
from fullcycle.core import params
from fullcycle.core.errors import FullcycleError
from fullcycle.data import prepare

from .conftest import REPO


def test_baseline_clears_the_bar_on_bbc_news(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = OmegaConf.create(params.compose(REPO / "conf"))
    prepare.run(cfg)
    metrics = baseline.run(cfg)
    assert metrics["test"]["accuracy"] >= 0.95
    assert metrics["test"]["f1_macro"] >= 0.95
    assert json.loads((tmp_path / "reports/baseline/metrics.json").read_text()) == metrics


def test_baseline_before_prepare_says_what_to_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = OmegaConf.create(params.compose(REPO / "conf"))
    with pytest.raises(FullcycleError, match="run `fullcycle prepare`"):
        baseline.run(cfg)
