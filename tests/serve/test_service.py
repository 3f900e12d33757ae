"""The service under the real server, started once for the module the way a user starts it:
`fullcycle serve` at a project root (`bentoml serve .`, bentofile.yaml naming the service), with
small limits, an API key and capture on."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from fullcycle.core.classifier import read_meta
from fullcycle.serve import launch
from fullcycle.serve.capture import captured_files, read_rows
from fullcycle.serve.model import _without_none
from tests.conftest import BIN

from .conftest import API_KEY, LABELS, METRICS, serve_project

MAX_TEXTS, MAX_CHARS = 8, 2000
AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, trained_model: Path, optimized_fp32: Path):
    # max_batch_size < max_texts: one request's texts may span two forward passes;
    # the default runtime (onnx) serves the optimize stage's fp32 variant (int8: test_runtime.py)
    root = serve_project(
        tmp_path_factory.mktemp("served"),
        trained_model,
        optimized_fp32,
        max_texts=MAX_TEXTS,
        max_chars=MAX_CHARS,
        max_batch_size=4,
    )
    port = launch.free_port()
    command = [str(BIN / "fullcycle"), "serve", "--port", str(port), "--capture"]
    env = {"FULLCYCLE_API_KEY": API_KEY}
    with (
        launch.serving(
            command=command, port=port, cwd=root, env=env, log_path=root / "log"
        ) as running,
        httpx.Client(base_url=running.url, headers=AUTH, timeout=60) as client,
    ):
        yield SimpleNamespace(url=running.url, root=root, client=client, log=running.log)


def classify(server, texts, **kwargs) -> httpx.Response:
    return server.client.post("/classify", json={"texts": texts}, **kwargs)


def test_classify_returns_one_prediction_per_text_in_order(server):
    texts = ["Shares in the bank fell.", "The striker scored twice.", "A new phone launched."]
    response = classify(server, texts)
    assert response.status_code == 200, response.text
    predictions = response.json()
    assert len(predictions) == len(texts)
    for prediction in predictions:
        assert set(prediction) == {"label", "score", "scores"}
        assert list(prediction["scores"]) == LABELS
        assert prediction["label"] in LABELS
        assert prediction["score"] == max(prediction["scores"].values())
        assert sum(prediction["scores"].values()) == pytest.approx(1.0, abs=1e-4)
    alone = [classify(server, [text]).json()[0] for text in texts]
    # dynamic int8 quantises activations per forward pass (one scale per batch), so a text's
    # scores move a little with its batch-mates; fp32 runtimes agree to rounding
    int8 = server.client.get("/metadata").json()["runtime"]["variant"].endswith("int8")
    for together, single in zip(predictions, alone, strict=True):
        assert together["scores"] == pytest.approx(single["scores"], abs=1e-3 if int8 else 1e-5)


def test_order_is_kept_under_concurrency_and_requests_are_batched(server):
    """32 clients at once, each with its own texts (up to MAX_TEXTS, so some span two forward
    passes): every answer must match that text's prediction when sent alone."""
    texts = [
        f"story {i}: " + " ".join(f"word{i * 7 % (j + 3)}" for j in range(i % 13 + 1))
        for i in range(48)
    ]
    reference = [p["scores"] for p in classify(server, texts[:8]).json()]
    reference += [
        p["scores"] for t in range(8, 48, 8) for p in classify(server, texts[t : t + 8]).json()
    ]
    requests = [texts[i : i + 1 + i % MAX_TEXTS] for i in range(0, 48, 2)] + [
        [t] for t in texts[:8]
    ]

    def send(batch: list[str]) -> list[dict]:
        response = classify(server, batch)
        assert response.status_code == 200, response.text
        return response.json()

    with ThreadPoolExecutor(32) as pool:
        answers = list(pool.map(send, requests))
    for batch, answer in zip(requests, answers, strict=True):
        assert len(answer) == len(batch)
        for text, prediction in zip(batch, answer, strict=True):
            scores = list(prediction["scores"].values())
            # the nearest reference is this text's own: nothing was swapped between requests
            nearest = min(
                range(len(texts)),
                key=lambda i: sum(
                    abs(a - b) for a, b in zip(scores, reference[i].values(), strict=True)
                ),
            )
            assert texts[nearest] == text
    metrics = server.client.get("/metrics").text
    counts = dict(re.findall(r'fullcycle_pass_texts_bucket\{le="([^"]+)".*?\} (\S+)', metrics))
    total = float(re.search(r"fullcycle_pass_texts_count(?:\{.*?\})? (\S+)", metrics).group(1))
    assert float(counts["1.0"]) < total, "no forward pass ever merged two requests"


BAD_BODIES = {
    "texts not a list": ({"texts": "just one text"}, "texts"),
    "a text not a string": ({"texts": ["fine", 3]}, "texts"),
    "texts missing": ({"text": ["typo in the field name"]}, "texts"),
    "empty list": ({"texts": []}, "texts"),
    "blank text": ({"texts": ["   "]}, "texts"),
    "text too long": ({"texts": ["x" * (MAX_CHARS + 1)]}, "texts"),
    "too many texts": ({"texts": ["a text"] * (MAX_TEXTS + 1)}, "texts"),
    "body not an object": ([["a text"]], ""),
    "null body": (None, ""),
}


@pytest.mark.parametrize("name", list(BAD_BODIES))
def test_bad_input_is_a_400_naming_the_field(server, name):
    body, field = BAD_BODIES[name]
    response = server.client.post(
        "/classify", content=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    error = response.json()
    assert "Traceback" not in response.text
    locations = [".".join(map(str, d["loc"])) for d in error["detail"]]
    assert any(loc.startswith(field) for loc in locations), error


@pytest.mark.parametrize("raw", [b"{", b'{"texts": ["unterminated]}', b"\xff\xfe", b""])
def test_invalid_json_is_a_400(server, raw):
    response = server.client.post(
        "/classify", content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert "Traceback" not in response.text


def test_limits_are_named_in_the_400(server):
    too_long = classify(server, ["ok", "y" * (MAX_CHARS + 1)]).json()["detail"][0]
    assert too_long["loc"] == ["texts", 1] and str(MAX_CHARS) in too_long["msg"]
    too_many = classify(server, ["t"] * (MAX_TEXTS + 1)).json()["detail"][0]
    assert too_many["loc"] == ["texts"] and str(MAX_TEXTS) in too_many["msg"]


def test_form_bodies_are_a_415_and_oversize_bodies_a_413(server):
    form = server.client.post(
        "/classify",
        content=b'{"texts": ["a"]}',
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code == 415 and "application/json" in form.json()["error"]
    huge = json.dumps({"texts": ["z" * 200_000]}).encode()
    assert server.client.post("/classify", content=huge).status_code == 413
    chunked = server.client.post("/classify", content=iter([huge[:100_000], huge[100_000:]]))
    assert chunked.status_code == 413  # no Content-Length: counted while reading
    small = server.client.post(
        "/classify",
        content=iter([b'{"texts": ', b'["sent in chunks"]}']),
        headers={"Content-Type": "application/json"},
    )
    assert small.status_code == 200, small.text  # the guard replays what it read


@pytest.mark.parametrize("path", ["/classify", "/explain"])
@pytest.mark.parametrize(
    "content_type", ["text/plain", "text/plain; charset=utf-8", "application/xml", "text/json"]
)
def test_a_body_that_is_not_json_is_a_415_naming_both_types(server, path, content_type):
    body = b'{"texts": ["a"]}' if path == "/classify" else b'{"text": "a"}'
    response = server.client.post(path, content=body, headers={"Content-Type": content_type})
    assert response.status_code == 415, response.text
    error = response.json()["error"]
    sent = content_type.split(";")[0]
    assert f"Content-Type {sent} is not accepted by {path}: it takes application/json" in error
    assert response.headers["accept-post"] == "application/json"


def test_json_media_types_with_parameters_are_json(server):
    for content_type in ("application/json; charset=utf-8", "Application/JSON"):
        response = server.client.post(
            "/classify", content=b'{"texts": ["a"]}', headers={"Content-Type": content_type}
        )
        assert response.status_code == 200, (content_type, response.text)
    malformed = server.client.post(
        "/classify", content=b"{", headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert malformed.status_code == 400  # JSON declared, badly written: the body's fault


def test_api_key_is_required_and_never_logged(server):
    texts = {"texts": ["a text"]}
    no_key = httpx.post(f"{server.url}/classify", json=texts)
    assert no_key.status_code == 401 and "API key" in no_key.json()["error"]
    wrong = httpx.post(
        f"{server.url}/classify", json=texts, headers={"Authorization": "Bearer nope"}
    )
    assert wrong.status_code == 401
    assert httpx.get(f"{server.url}/metadata").status_code == 401
    as_header = httpx.post(f"{server.url}/classify", json=texts, headers={"X-API-Key": API_KEY})
    assert as_header.status_code == 200
    assert API_KEY not in no_key.text + wrong.text
    assert API_KEY not in server.log()


def test_probes_and_metrics_need_no_key(server):
    for path in ("/livez", "/readyz"):
        assert httpx.get(f"{server.url}{path}").status_code == 200
    metrics = httpx.get(f"{server.url}/metrics")
    assert metrics.status_code == 200
    assert "bentoml_service_request_total" in metrics.text
    assert re.search(r'fullcycle_predictions_total\{label="\w+"\} [1-9]', metrics.text)


def test_metadata_describes_the_model(server):
    response = server.client.get("/metadata")
    assert response.status_code == 200, response.text
    meta = response.json()
    model = meta["model"]
    assert model["labels"] == LABELS
    assert model["metrics"] == METRICS
    trained = read_meta(server.root / "models" / "classifier")  # the train stage's record
    assert model["data_hash"] == trained["data"]["md5"]
    assert model["data_hash"].endswith(".dir")  # DVC's hash of data/processed
    assert "git_commit" not in model  # not a git checkout: no commit to stamp
    assert model["params"] == _without_none(trained["params"])  # BentoML refuses None values
    assert re.fullmatch(r"[0-9a-f]{16}", model["version"])
    assert meta["limits"] == {"max_texts": MAX_TEXTS, "max_chars": MAX_CHARS}
    assert meta["batching"]["enabled"] is True and meta["capture"] is True
    assert model["source"] == f"directory {server.root / 'models' / 'classifier'}"


def test_the_start_up_output_says_capture_is_on_and_where_it_writes(server):
    folder = server.root.resolve() / "data/captured/fullcycle_traffic/data"
    lines = server.log().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("serving "))
    assert "API key required" in lines[start]
    assert lines[start + 1].startswith(
        f"capture on: masked texts and predictions to {folder}/data.<worker>.log"
    ), lines[start : start + 2]


def test_capture_masks_personal_data_and_is_readable_by_the_monitor(server):
    texts = [
        "Write to jane.doe@example.com about the merger.",
        "Call +44 20 7946 0958 or (555) 123-4567 for tickets.",
        "Card 4111 1111 1111 1111 was charged £30 in 2004.",
        "Line\u2028separator and next\u0085line stay one record.",
    ]
    assert classify(server, texts).status_code == 200
    files = captured_files(server.root / "data" / "captured")  # bentoml.monitor's file sink
    assert files and files[0].parent.parts[-2:] == ("fullcycle_traffic", "data")
    raw = "".join(f.read_text(encoding="utf-8") for f in files)
    # whole numbers, not 4 digits: BentoML's random request and trace ids hold "7946" by chance
    for secret in ("jane.doe", "7946 0958", "123-4567", "4111 1111"):
        assert secret not in raw
    rows = [row for f in files for row in read_rows(f)]
    tail = [row["text"] for row in rows][-len(texts) :]
    assert tail[0] == "Write to <EMAIL> about the merger."
    assert tail[1] == "Call <PHONE> or <PHONE> for tickets."
    assert tail[2] == "Card <CARD> was charged £30 in 2004."
    assert tail[3] == texts[3]
    last = rows[-1]
    assert last["predicted"] in LABELS and 0 < last["score"] <= 1 and "label" not in last
    assert (
        last["time"].endswith("+00:00")
        and last["model"] == server.client.get("/metadata").json()["model"]["version"]
    )


def test_fuzzing_the_openapi_schema_finds_no_server_error(server, tmp_path):
    """schemathesis generates valid and invalid bodies from /docs.json: nothing may be a 5xx."""
    done = subprocess.run(
        [
            sys.executable, "-m", "schemathesis.cli", "run", f"{server.url}/docs.json",
            "--checks", "not_a_server_error", "--max-examples", "30", "--seed", "7",
            "--generation-database", "none", "--request-timeout", "30", "--no-color",
            "-H", f"Authorization: Bearer {API_KEY}",
        ],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "No issues found" in done.stdout
