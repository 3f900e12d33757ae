"""The service's front door: API key, body size and content type, checked before BentoML reads a
byte of the body, so a bad request costs nothing and always gets a 4xx with a message.

- API key: when FULLCYCLE_API_KEY is set, every route except the probes, /metrics and the API docs
  needs `Authorization: Bearer <key>` or `X-API-Key: <key>`; otherwise a 401. The key is compared in
  constant time and never logged or echoed.
- Body size: a POST body larger than the limits allow (ServeSettings.max_body_bytes, derived from
  serve.max_texts x serve.max_chars) is a 413: at once when Content-Length says so, else as soon as
  the streamed body passes the limit (never buffered whole).
- Memory: the bodies of all requests in flight share one budget (serve.max_inflight_mb). A request
  reserves its Content-Length (a streamed one, what it has sent so far) before its body is read and
  keeps it until its response is sent; one that does not fit is a 503 with Retry-After, so a flood
  of maximal bodies meets 503s instead of exhausting memory. `on_inflight` is told the bytes held
  after every change (the service's fullcycle_inflight_bytes gauge).
- Content type: every POST route takes JSON. BentoML would parse form and pickle bodies with other
  decoders (and answer 500 on a JSON body sent as a form, as `curl -d` does by default) and call
  any other body "Invalid JSON" (400), which hides the real mistake; so a declared type that is not
  JSON (application/json or a +json type) is a 415 naming the type sent and the one expected. A
  body with no Content-Type is read as JSON, as BentoML does; a malformed JSON body stays a 400.
- A client that goes away: once the body is read, the guard listens for the client's disconnect
  while the request is handled; a client that closes its connection before its answer has begun
  cancels the request, so a /classify request still queued leaves the queue (never computed);
  `on_gone` counts them (the service's fullcycle_client_gone_total). Starlette's streaming
  responses listen for a disconnect the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import json
import logging
import os
import socket
import sys
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("fullcycle.serve")

PUBLIC_PATHS = frozenset(
    {"/livez", "/readyz", "/healthz", "/metrics", "/docs.json", "/schema.json", "/", "/favicon.ico"}
)
PUBLIC_PREFIXES = ("/static_content/", "/assets/")
JSON_TYPE = "application/json"
EXAMPLES = {"/classify": '{"texts": ["..."]}', "/explain": '{"text": "..."}'}  # for the 415


def _header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


async def _reply(send: Any, status: int, error: str, headers: dict[str, str] | None = None) -> None:
    body = json.dumps({"error": error}).encode()
    extra = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *extra,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _is_json(media_type: str) -> bool:
    """application/json, a structured +json type (RFC 6839), or none declared (read as JSON)."""
    return media_type in ("", JSON_TYPE) or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


class Guard:
    """ASGI middleware (added with Service.add_asgi_middleware)."""

    def __init__(
        self,
        app: Any,
        max_body_bytes: int,
        api_key_env: str,
        max_inflight_bytes: int | None = None,
        on_gone: Callable[[], None] | None = None,
        on_inflight: Callable[[int], None] | None = None,
    ) -> None:
        self.app = app
        self.on_gone = on_gone
        self.on_inflight = on_inflight
        self.max_body_bytes = max_body_bytes
        self.max_inflight_bytes = max_inflight_bytes or 16 * max_body_bytes
        self.inflight = 0  # bytes reserved by requests in flight (one event loop: no lock needed)
        key = os.environ.get(api_key_env, "")
        self._key = key.encode() if key else None
        self._key_env = api_key_env

    def _reserve(self, size: int) -> bool:
        if self.inflight + size > self.max_inflight_bytes:
            return False
        self._hold(size)
        return True

    def _hold(self, size: int) -> None:
        self.inflight += size
        if self.on_inflight is not None:
            self.on_inflight(self.inflight)

    def _authorised(self, scope: dict[str, Any]) -> bool:
        if self._key is None:
            return True
        given = _header(scope, b"x-api-key")
        bearer = _header(scope, b"authorization")
        if not given and bearer[:7].lower() == "bearer ":
            given = bearer[7:].strip()
        return hmac.compare_digest(given.encode("latin-1"), self._key)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            return await self.app(scope, receive, send)
        if not self._authorised(scope):
            return await _reply(
                send,
                401,
                "missing or wrong API key: send it as 'Authorization: Bearer <key>' or "
                f"'X-API-Key: <key>' (the server reads it from {self._key_env})",
                {"WWW-Authenticate": "Bearer"},
            )
        if scope.get("method") != "POST":
            return await self.app(scope, receive, send)
        media_type = _header(scope, b"content-type").split(";")[0].strip().lower()[:100]
        if not _is_json(media_type):
            example = EXAMPLES.get(path.rstrip("/"), "")
            return await _reply(
                send,
                415,
                f"Content-Type {media_type} is not accepted by {path}: it takes {JSON_TYPE}; "
                f"send the body as JSON with 'Content-Type: {JSON_TYPE}'"
                + (f", e.g. {example}" if example else ""),
                {"Accept-Post": JSON_TYPE},
            )
        declared = _header(scope, b"content-length")
        reserved = int(declared) if declared.isdigit() else 0
        if reserved > self.max_body_bytes:
            return await self._too_large(send)
        if not self._reserve(reserved):
            return await self._busy(send)
        held = [reserved]  # grows while a streamed body is read
        try:
            await self._read_and_forward(scope, receive, send, held)
        finally:
            self._hold(-held[0])

    async def _read_and_forward(self, scope: Any, receive: Any, send: Any, held: list[int]) -> None:
        """Read the body (bounded, within the reservation), then hand BentoML a replay of it."""
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_body_bytes:
                return await self._too_large(send)
            if size > held[0]:  # streamed, or more than Content-Length announced
                if not self._reserve(size - held[0]):
                    return await self._busy(send)
                held[0] = size
            if not message.get("more_body", False):
                break
        body, replayed = b"".join(chunks), False
        chunks.clear()
        ending = asyncio.Event()  # the last piece of the answer is being sent

        async def send_ending(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                ending.set()
            await send(message)

        async def replay() -> dict[str, Any]:
            nonlocal replayed, body
            if not replayed:
                replayed = True
                message = {"type": "http.request", "body": body, "more_body": False}
                body = b""  # BentoML keeps its own copy from here on
                return message
            return await receive()

        handling = self.app(scope, replay, send_ending)
        if not await _until_answered_or_gone(handling, receive, ending):
            if self.on_gone:
                self.on_gone()
            # Nobody reads this answer (the server drops it), but the layers above the guard see
            # one: BentoML's timeout middleware waits for a response start until serve.timeout_s,
            # holding a max_concurrency slot; the access log records 499 (nginx's "client closed
            # request").
            await _reply(send, 499, "the client closed the connection before its answer")

    async def _busy(self, send: Any) -> None:
        await _reply(
            send,
            503,
            "the server is holding as many request bodies as it may (serve.max_inflight_mb): "
            "retry shortly",
            {"Retry-After": "1"},
        )

    async def _too_large(self, send: Any) -> None:
        await _reply(
            send,
            413,
            f"request body larger than {self.max_body_bytes} bytes: send fewer or shorter texts "
            "(limits: serve.max_texts, serve.max_chars)",
        )


async def _until_answered_or_gone(handle: Any, receive: Any, ending: asyncio.Event) -> bool:
    """Run `handle` (the request's handling) to its end (True), or cancel it when the client
    disconnects before its answer is being sent (False). After the body, the server's `receive` has nothing left to
    give but `http.disconnect`: when the client goes, or (uvicorn) once the response is complete."""

    async def gone() -> None:
        with contextlib.suppress(Exception):  # a server that raises here: the connection is gone
            while (await receive())["type"] != "http.disconnect":
                pass

    task = asyncio.ensure_future(handle)
    watcher = asyncio.ensure_future(gone())
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
        if not task.done() and not ending.is_set():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            return False
        await task
        return True
    finally:
        watcher.cancel()
        if not task.done():  # this handler itself was cancelled (the server stops)
            task.cancel()


def listening_host(argv: list[str] | None = None) -> str | None:
    """The address this BentoML worker really listens on: its listening socket comes as
    `--fd N` (from the `bentoml serve --host` of the parent); None when that cannot be told."""
    argv = sys.argv if argv is None else argv
    try:
        fd = int(argv[argv.index("--fd") + 1])
    except (ValueError, IndexError):
        return None
    try:
        sock = socket.socket(fileno=fd)
    except OSError:
        return None
    try:
        return str(sock.getsockname()[0])
    except (OSError, IndexError):
        return None
    finally:
        sock.detach()  # the socket belongs to the server: never close it


def exposure_warning(host: str | None, api_key_env: str) -> str | None:
    """The start-up warning for a server reachable beyond this machine with no API key."""
    if host is None or os.environ.get(api_key_env):
        return None
    try:
        if ipaddress.ip_address(host.split("%")[0]).is_loopback:
            return None
    except ValueError:
        if host == "localhost":
            return None
    return (
        f"WARNING: the API listens on {host}, beyond this machine, and {api_key_env} is not set: "
        f"anyone who can reach this port can use it. Set {api_key_env} to require a key, or "
        "serve on 127.0.0.1 (`fullcycle serve --host 127.0.0.1`, `bentoml serve --host 127.0.0.1`)."
    )
