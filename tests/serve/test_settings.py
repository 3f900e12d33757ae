"""Serve settings: conf/serve/default.yaml and the code agree; bad values are named."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from fullcycle.core.errors import FullcycleError
from fullcycle.serve import settings
from tests.conftest import REPO


def test_conf_defaults_match_the_dataclass():
    conf = yaml.safe_load((REPO / "conf" / "serve" / "default.yaml").read_text())
    assert conf == settings.ServeSettings().to_dict()


def test_params_yaml_has_the_serve_section():
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    assert params["serve"] == settings.ServeSettings().to_dict()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"max_texts": 0}, "serve.max_texts must be a positive integer"),
        ({"max_chars": "lots"}, "serve.max_chars must be a positive integer"),
        ({"batching": "sometimes"}, "serve.batching must be a bool"),
        ({"max_text": 5}, "unknown serve setting(s) max_text"),
        ({"capture_path": ""}, "serve.capture_path must be a str"),
        ({"explain_warn_delta": "big"}, "serve.explain_warn_delta must be a positive number"),
        ({"explain_warn_delta": 0}, "serve.explain_warn_delta must be a positive number"),
        ({"max_latency_ms": 10000}, "serve.max_latency_ms is gone with BentoML's adaptive batcher"),
        ({"max_wait_ms": 0}, "serve.max_wait_ms must be a positive integer"),
        ({"max_inflight_mb": 16}, "serve.max_inflight_mb = 16 cannot hold one request of the"),
    ],
)
def test_bad_values_are_named(values, message):
    with pytest.raises(FullcycleError, match=message.replace("(", r"\(").replace(")", r"\)")):
        settings.ServeSettings.from_mapping(values, "params.yaml")


def test_environment_overrides_and_bento_arguments():
    frozen = dataclasses.replace(settings.ServeSettings(), max_texts=5).to_dict()
    env = {"FULLCYCLE_BATCHING": "0", "FULLCYCLE_CAPTURE": "true", "FULLCYCLE_MODEL_DIR": "/m"}
    loaded = settings.load(frozen, env=env)
    assert (loaded.max_texts, loaded.batching, loaded.capture, loaded.model_dir) == (
        5,
        False,
        True,
        "/m",
    )
    with pytest.raises(FullcycleError, match="FULLCYCLE_BATCHING"):
        settings.load(frozen, env={"FULLCYCLE_BATCHING": "maybe"})


def test_params_file_without_serve_section(tmp_path, monkeypatch):
    (tmp_path / "params.yaml").write_text("seed: 1\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FullcycleError, match="no 'serve' section"):
        settings.load(env={})


def test_body_limit_is_derived_from_the_text_limits():
    small = settings.ServeSettings(max_texts=2, max_chars=10)
    assert small.max_body_bytes == 2 * (10 * 6 + 16) + 4096
    default = settings.ServeSettings()
    assert default.max_body_bytes < 20 * 2**20 <= default.max_inflight_bytes
