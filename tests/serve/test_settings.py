"""Serve settings: the schema of conf/serve/default.yaml (core/schema_release.py), from params.yaml,
a bento's build arguments and the environment; bad values are named with what they may be."""

from __future__ import annotations

import re

import pytest
import yaml

from fullcycle.core.errors import FullcycleError
from fullcycle.serve import settings
from tests.conftest import REPO
from tests.serve.serve_conf import serve_settings, serve_values


def test_conf_and_params_yaml_hold_every_setting():
    conf = yaml.safe_load((REPO / "conf" / "serve" / "default.yaml").read_text())
    assert list(conf) == list(settings.ServeSettings.model_fields)
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    assert serve_settings().to_dict() == params["serve"] == conf


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"max_texts": 0}, "serve.max_texts = 0: must be a whole number >= 1"),
        ({"max_chars": "lots"}, "serve.max_chars = 'lots': must be a whole number >= 1"),
        ({"batching": "sometimes"}, "serve.batching = 'sometimes': must be true or false"),
        ({"max_text": 5}, "serve.max_text is not a setting (did you mean serve.max_texts?"),
        ({"capture_path": ""}, "serve.capture_path = '': must be a non-empty string"),
        ({"explain_warn_delta": "big"}, "serve.explain_warn_delta = 'big': must be a number > 0"),
        ({"explain_warn_delta": 0}, "serve.explain_warn_delta = 0: must be a number > 0"),
        ({"max_latency_ms": 10000}, "serve.max_latency_ms is no longer read; it is gone with Bent"),
        ({"max_wait_ms": 0}, "serve.max_wait_ms = 0: must be a whole number >= 1"),
        ({"runtime": "tensorrt"}, "serve.runtime = 'tensorrt': must be one of onnx, torch"),
        ({"max_inflight_mb": 16}, "serve.max_inflight_mb = 16 cannot hold one request of the"),
    ],
)
def test_bad_values_are_named(values, message):
    with pytest.raises(FullcycleError, match=re.escape(message)) as error:
        settings.from_mapping(serve_values(**values), "params.yaml")
    assert str(error.value).startswith("params.yaml: ") and "\n" not in str(error.value)


def test_several_bad_values_are_one_error_a_line_each():
    with pytest.raises(FullcycleError) as error:
        settings.from_mapping(serve_values(port=0, host=""), "params.yaml")
    assert str(error.value).splitlines() == [
        "params.yaml: serve.host = '': must be a non-empty string (conf/serve/default.yaml)",
        "params.yaml: serve.port = 0: must be a whole number >= 1 (conf/serve/default.yaml)",
    ]


def test_a_bento_missing_a_setting_says_which():
    values = serve_values()
    del values["max_queue"]
    with pytest.raises(FullcycleError, match=r"build arguments: serve.max_queue is missing"):
        settings.load(values, env={})


def test_environment_overrides_and_bento_arguments():
    frozen = serve_values(max_texts=5)
    env = {"FULLCYCLE_BATCHING": "0", "FULLCYCLE_CAPTURE": "true", "FULLCYCLE_MODEL_DIR": "/m"}
    loaded = settings.load(frozen, env=env)
    assert (loaded.max_texts, loaded.batching, loaded.capture, loaded.model_dir) == (
        5,
        False,
        True,
        "/m",
    )
    message = "environment variable FULLCYCLE_BATCHING: serve.batching = 'maybe': must be true"
    with pytest.raises(FullcycleError, match=re.escape(message)):
        settings.load(frozen, env={"FULLCYCLE_BATCHING": "maybe"})


def test_params_file_without_serve_section(tmp_path, monkeypatch):
    (tmp_path / "params.yaml").write_text("seed: 1\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FullcycleError, match="no 'serve' section"):
        settings.load(env={})


def test_body_limit_is_derived_from_the_text_limits():
    small = serve_settings(max_texts=2, max_chars=10)
    assert small.max_body_bytes == 2 * (10 * 6 + 16) + 4096
    default = serve_settings()
    assert default.max_body_bytes < 20 * 2**20 <= default.max_inflight_bytes
