"""serve.runtime under the real server: the ONNX runtime (default, models/optimized) and the torch
fallback (FULLCYCLE_SERVE_RUNTIME=torch) answer the same contract; a missing or damaged ONNX file
stops start-up with a message naming the file."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from fullcycle.core.errors import FullcycleError
from fullcycle.serve import launch, runtime
from fullcycle.serve.settings import load as load_settings
from tests.conftest import BIN
from tests.serve.serve_conf import serve_values

from .conftest import LABELS, serve_project

TEXTS = ["Shares in the bank fell.", "The striker scored twice.", "A new phone launched."]


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory, trained_model: Path, optimized_model: Path):
    """The same project served twice at once: default runtime (onnx) and torch."""
    root = serve_project(tmp_path_factory.mktemp("runtimes"), trained_model, optimized_model)
    with (
        launch.serving(".", cwd=root, log_path=root / "onnx.log") as onnx,
        launch.serving(
            ".", cwd=root, env={runtime.RUNTIME_ENV: "torch"}, log_path=root / "torch.log"
        ) as torch,
    ):
        yield SimpleNamespace(root=root, onnx=onnx.url, torch=torch.url)


def test_both_runtimes_answer_the_same_shape(servers, optimized_model):
    onnx = httpx.post(f"{servers.onnx}/classify", json={"texts": TEXTS}, timeout=60)
    torch = httpx.post(f"{servers.torch}/classify", json={"texts": TEXTS}, timeout=60)
    assert onnx.status_code == torch.status_code == 200, onnx.text + torch.text
    for a, b in zip(onnx.json(), torch.json(), strict=True):
        assert set(a) == set(b) == {"label", "score", "scores"}
        assert list(a["scores"]) == list(b["scores"]) == LABELS
        assert a["score"] == max(a["scores"].values())
        assert sum(a["scores"].values()) == pytest.approx(1.0, abs=1e-5)
        # int8 against fp32: close, not equal
        assert a["scores"] == pytest.approx(b["scores"], abs=0.05)
    bad = [
        httpx.post(f"{url}/classify", json={"texts": []}) for url in (servers.onnx, servers.torch)
    ]
    assert [r.status_code for r in bad] == [400, 400]


def test_metadata_names_the_runtime_and_variant(servers, optimized_model):
    import json

    manifest = json.loads((optimized_model / "manifest.json").read_text())
    onnx = httpx.get(f"{servers.onnx}/metadata").json()
    torch = httpx.get(f"{servers.torch}/metadata").json()
    assert onnx["runtime"]["name"] == "onnx"
    assert onnx["runtime"]["variant"] == manifest["variant"]
    assert "CPUExecutionProvider" in onnx["runtime"]["providers"]
    assert onnx["runtime"]["source_version"] == onnx["model"]["version"]
    assert torch["runtime"] == {"name": "torch", "variant": "fp32", "device": "cpu"}
    assert onnx["model"] == torch["model"] and onnx["limits"] == torch["limits"]


def test_runtime_comes_from_params_then_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv(runtime.RUNTIME_ENV, raising=False)
    assert load_settings(serve_values(runtime="torch")).runtime == "torch"
    assert load_settings(serve_values(), env={runtime.RUNTIME_ENV: "torch"}).runtime == "torch"
    assert load_settings(serve_values(), env={}).runtime == "onnx"
    with pytest.raises(FullcycleError, match="FULLCYCLE_SERVE_RUNTIME.*'tensorrt'.*onnx, torch"):
        load_settings(serve_values(), env={runtime.RUNTIME_ENV: "tensorrt"})


@pytest.fixture
def broken(tmp_path: Path, trained_model: Path, optimized_model: Path) -> Path:
    return serve_project(tmp_path / "broken", trained_model, optimized_model)


def _serve(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "fullcycle"), "serve", "--port", str(launch.free_port())],
        cwd=root, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_fullcycle_serve_names_a_missing_or_corrupt_onnx_file(broken):
    model = broken / "models" / "optimized" / "model.onnx"
    model.write_bytes(b"\x08\x07 not a protobuf" * 10)
    done = _serve(broken)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "models/optimized/model.onnx is not a loadable ONNX model" in done.stderr
    assert "FULLCYCLE_SERVE_RUNTIME=torch" in done.stderr and "Traceback" not in done.stderr
    model.unlink()
    done = _serve(broken)
    assert done.returncode == 2 and "models/optimized/model.onnx not found" in done.stderr
    shutil.rmtree(broken / "models" / "optimized")
    done = _serve(broken)
    assert done.returncode == 2 and "models/optimized/manifest.json not found" in done.stderr


def test_an_optimised_model_of_another_model_is_refused(broken):
    manifest = broken / "models" / "optimized" / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"version": "', '"version": "0ld'))
    done = _serve(broken)
    assert done.returncode == 2 and "was built from model version 0ld" in done.stderr


def test_bentoml_serve_logs_the_bad_file_at_start_up_and_the_launcher_stops(broken):
    (broken / "models" / "optimized" / "model.onnx").write_bytes(b"garbage")
    # BentoML restarts the failing worker forever: without stopping at the first logged failure
    # the launcher would wait out its start-up timeout, which outlasts pytest's (600 s)
    with (
        pytest.raises(RuntimeError) as failed,
        launch.serving(".", cwd=broken, log_path=broken / "log", startup_timeout=3600),
    ):
        pass
    assert "model.onnx is not a loadable ONNX model" in str(failed.value)
