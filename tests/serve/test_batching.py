"""The /classify batcher under the real server (`bentoml serve` at a project root, the tiny model):
answers stay in order and per request under concurrency, a bad request never fails the others,
a full queue is a 503 with Retry-After, and a client that disconnects while queued is never
computed.
The batcher's decisions alone: tests/serve/test_batcher.py."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from fullcycle.serve import launch

from .conftest import serve_project

MAX_QUEUE = 64  # = serve.max_texts: one full request fills it
LONG = "The markets rallied as the central bank held rates. " * 900  # ~47k characters


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, trained_model: Path):
    root = serve_project(
        tmp_path_factory.mktemp("batching"), trained_model, max_queue=MAX_QUEUE, max_batch_size=64
    )
    port = launch.free_port()
    command = launch.bentoml_command(".", "127.0.0.1", port)
    with (
        launch.serving(command=command, port=port, cwd=root, log_path=root / "log") as running,
        httpx.Client(base_url=running.url, timeout=120) as client,
    ):
        yield SimpleNamespace(url=running.url, port=port, client=client, log=running.log)


def metric(server, name: str) -> float:
    text = server.client.get("/metrics").text
    found = re.findall(rf"^{name}(?:\{{[^}}]*\}})? (\S+)$", text, re.MULTILINE)
    return sum(float(v) for v in found)


def busy(server) -> threading.Thread:
    """Start a long pass (64 long texts, each read whole) and return once it is running, so that
    requests sent next have to queue behind it."""
    passes = metric(server, "fullcycle_pass_texts_count")
    sender = threading.Thread(
        target=lambda: server.client.post("/classify", json={"texts": [LONG] * 64}), daemon=True
    )
    sender.start()
    while metric(server, "fullcycle_pass_texts_count") == passes:
        pass
    return sender


def test_answers_are_per_request_and_in_order_and_bad_requests_fail_alone(server):
    texts = [f"news item {i}: " + "goal match striker " * (i % 5) + "shares bank" * (i % 3)
             for i in range(24)]  # fmt: skip
    alone = [server.client.post("/classify", json={"texts": [t]}).json()[0] for t in texts]
    sent = [texts[i : i + 1 + i % 4] for i in range(0, 24, 2)]
    bad = [{"texts": ["   "]}, {"texts": []}, {"texts": ["x" * 60000]}, {"text": ["typo"]}] * 3

    def send(body: dict) -> httpx.Response:
        with httpx.Client(base_url=server.url, timeout=120) as client:
            return client.post("/classify", json=body)

    bodies = [{"texts": t} for t in sent] + bad
    order = list(range(len(bodies)))[::2] + list(range(len(bodies)))[1::2]  # interleave them
    with ThreadPoolExecutor(24) as pool:
        replies = dict(zip(order, pool.map(send, [bodies[i] for i in order]), strict=True))
    for i, batch in enumerate(sent):
        assert replies[i].status_code == 200, replies[i].text
        for text, prediction in zip(batch, replies[i].json(), strict=True):
            reference = alone[texts.index(text)]
            assert prediction["label"] == reference["label"]
            assert prediction["scores"] == pytest.approx(reference["scores"], abs=1e-4)
    assert all(replies[i].status_code == 400 for i in range(len(sent), len(bodies)))


def test_a_full_queue_is_a_503_with_retry_after(server):
    sender = busy(server)
    with ThreadPoolExecutor(1) as pool:
        queued = pool.submit(server.client.post, "/classify", json={"texts": ["a"] * MAX_QUEUE})
        while metric(server, "fullcycle_queue_texts") < MAX_QUEUE:  # the queue is full now
            pass
        refused = [httpx.post(f"{server.url}/classify", json={"texts": ["b"]}) for _ in range(2)]
        assert queued.result().status_code == 200
    sender.join()
    for reply in refused:
        assert reply.status_code == 503, reply.text
        assert int(reply.headers["Retry-After"]) >= 1
        assert "serve.max_queue 64" in reply.json()["error"]
    assert metric(server, "fullcycle_queue_full_total") >= 2


def test_a_client_that_disconnects_while_queued_leaves_the_queue_uncomputed(server):
    sender = busy(server)
    computed = metric(server, "fullcycle_pass_texts_sum")  # the long pass counts as it starts
    body = json.dumps({"texts": ["a reader who does not wait"] * 5})
    with socket.create_connection(("127.0.0.1", server.port)) as client:
        client.sendall(
            f"POST /classify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n{body}".encode()
        )
        while metric(server, "fullcycle_queue_texts") < 5:  # it queues behind the long pass
            pass
    while metric(server, "fullcycle_queue_texts") > 0:  # gone: it leaves the queue
        pass
    sender.join()
    assert (
        metric(server, "fullcycle_pass_texts_sum") == computed
    )  # its texts never reached the model
    assert metric(server, "fullcycle_client_gone_total") == 1
    # its handling ended at once (not at serve.timeout_s, 60 s, holding a max_concurrency slot):
    # the access log has its line, with nginx's "client closed request"
    deadline = time.monotonic() + 10
    while "path=/classify,type=application/json,length=161) (status=499" not in server.log():
        assert time.monotonic() < deadline, server.log()[-2000:]
        time.sleep(0.1)
    assert server.client.post("/classify", json={"texts": ["still serving"]}).status_code == 200
