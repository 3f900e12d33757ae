"""The guard's handling of a client that goes away, driven as an ASGI app in one event loop (the
real server's disconnect: tests/serve/test_batching.py). Keys, sizes and types: test_limits.py."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fullcycle.serve.guard import Guard

BODY = json.dumps({"texts": ["a"]}).encode()
SCOPE = {
    "type": "http",
    "method": "POST",
    "path": "/classify",
    "headers": [(b"content-type", b"application/json"), (b"content-length", b"15")],
}


class Connection:
    """A server's side of one request: `receive` gives the body, then blocks until the client
    disconnects or the response is complete (as uvicorn's does); `send` records the answer."""

    def __init__(self) -> None:
        self.body_given = False
        self.closed = asyncio.Event()
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        if not self.body_given:
            self.body_given = True
            return {"type": "http.request", "body": BODY, "more_body": False}
        await self.closed.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            self.closed.set()  # uvicorn: receive() says disconnect once the response is complete


def app_answering_after(started: asyncio.Event, answer: asyncio.Event, log: list[str]):
    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert (await receive())["body"] == BODY  # the guard replays the body it read
        started.set()
        try:
            await answer.wait()
        except asyncio.CancelledError:
            log.append("cancelled")
            raise
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"[]"})
        log.append("answered")

    return app


def run(client_leaves: bool) -> tuple[list[str], Connection]:
    async def scenario() -> tuple[list[str], Connection]:
        started, answer, log = asyncio.Event(), asyncio.Event(), []
        app = app_answering_after(started, answer, log)
        held: list[int] = []
        guard = Guard(
            app,
            10_000,
            "NO_SUCH_KEY_ENV",
            on_gone=lambda: log.append("gone"),
            on_inflight=held.append,
        )
        connection = Connection()
        handling = asyncio.create_task(guard(SCOPE, connection.receive, connection.send))
        await started.wait()
        if client_leaves:
            connection.closed.set()
        else:
            answer.set()
        await asyncio.wait_for(handling, 5)
        assert guard.inflight == 0  # the body's reservation is released either way
        # each change is reported (the /metrics gauge): Content-Length's 15 bytes, the body as
        # it came (one more), none
        assert held == [15, len(BODY), 0]
        return log, connection

    return asyncio.run(scenario())


def test_a_client_that_leaves_before_its_answer_cancels_its_request():
    log, connection = run(client_leaves=True)
    assert log == ["cancelled", "gone"]
    # a 499 the server drops, sent so that the layers above (BentoML's timeout middleware, the
    # access log) see the request end now
    assert connection.sent[0]["status"] == 499


def test_the_end_of_a_response_is_not_taken_for_a_client_that_left():
    log, connection = run(client_leaves=False)
    assert log == ["answered"]
    assert [m["type"] for m in connection.sent] == ["http.response.start", "http.response.body"]
