"""The service's front door: API key, body size and content type, checked before BentoML reads a
byte of the body, so a bad request costs nothing and always gets a 4xx with a message.

- API key: when FULLCYCLE_API_KEY is set, every route except the probes, /metrics and the API docs
  needs `Authorization: Bearer <key>` or `X-API-Key: <key>`; otherwise a 401. The key is compared in
  constant time and never logged or echoed.
- Body size: a POST body larger than the limits allow (ServeSettings.max_body_bytes) is a 413,
  whether or not the client sent Content-Length.
- Content type: BentoML would parse form and pickle bodies with other decoders (and answer 500 on
  a JSON body sent as a form, as `curl -d` does by default); those get a 415 naming the fix.
"""

from __future__ import annotations

import hmac
import json
import os
from typing import Any

PUBLIC_PATHS = frozenset(
    {"/livez", "/readyz", "/healthz", "/metrics", "/docs.json", "/schema.json", "/", "/favicon.ico"}
)
PUBLIC_PREFIXES = ("/static_content/", "/assets/")
NON_JSON_TYPES = frozenset(
    {"multipart/form-data", "application/x-www-form-urlencoded", "application/vnd.bentoml+pickle"}
)


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


class Guard:
    """ASGI middleware (added with Service.add_asgi_middleware)."""

    def __init__(self, app: Any, max_body_bytes: int, api_key_env: str) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        key = os.environ.get(api_key_env, "")
        self._key = key.encode() if key else None
        self._key_env = api_key_env

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
        media_type = _header(scope, b"content-type").split(";")[0].strip().lower()
        if media_type in NON_JSON_TYPES:
            return await _reply(
                send,
                415,
                f"Content-Type {media_type} is not accepted: send a JSON body with "
                '\'Content-Type: application/json\', e.g. {"texts": ["..."]}',
            )
        declared = _header(scope, b"content-length")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            return await self._too_large(send)
        # Read the body here (bounded), then hand BentoML a replay of it.
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_body_bytes:
                return await self._too_large(send)
            if not message.get("more_body", False):
                break
        body, replayed = b"".join(chunks), False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, send: Any) -> None:
        await _reply(
            send,
            413,
            f"request body larger than {self.max_body_bytes} bytes: send fewer or shorter texts "
            "(limits: serve.max_texts, serve.max_chars)",
        )
