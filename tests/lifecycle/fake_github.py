"""A local stand-in for the GitHub REST API on 127.0.0.1: pulls, issue comments and issues.

It speaks the shapes fullcycle uses (the real API's paths, status codes and JSON fields), checks the
bearer token, records every request, pages lists as GitHub does (`per_page`, default 30, and a
`Link: <...>; rel="next"` header), can be told to fail a route with a given status, and to answer
a route once with a rate limit (403/429 and `Retry-After`).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

TOKEN = "test-token"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any


@dataclass
class State:
    repo: str = "acme/project"
    token: str = TOKEN
    pulls: list[dict] = field(default_factory=list)
    comments: list[dict] = field(default_factory=list)  # each with "issue": number
    issues: list[dict] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    fail: dict[str, tuple[int, dict]] = field(default_factory=dict)  # "POST /pulls" -> reply
    # "GET /issues/N/comments" -> (403 or 429, Retry-After seconds): answered once, then served
    rate_limit_once: dict[str, tuple[int, int]] = field(default_factory=dict)
    next_id: int = 1

    def number(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def calls(self, method: str, suffix: str = "") -> list[Request]:
        return [r for r in self.requests if r.method == method and r.path.endswith(suffix)]


class FakeGitHub:
    """Start with `with FakeGitHub() as gh:`; `gh.url` is the API root, `gh.state` what it saw."""

    def __init__(self, repo: str = "acme/project") -> None:
        self.state = State(repo=repo)
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> FakeGitHub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def env(self) -> dict[str, str]:
        return {
            "GITHUB_API_URL": self.url,
            "GITHUB_REPOSITORY": self.state.repo,
            "GITHUB_TOKEN": self.state.token,
            "GITHUB_SERVER_URL": "https://github.example",
        }


class _Handler(BaseHTTPRequestHandler):
    state: State

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _page(self, items: list[dict], query: dict[str, str]) -> None:
        """One page of a list, with GitHub's Link header pointing at the next one."""
        page, per = int(query.get("page", 1)), min(int(query.get("per_page", 30)), 100)
        headers = {}
        if page * per < len(items):
            url = urlparse(self.path)
            following = urlencode({**query, "page": page + 1, "per_page": per})
            host = f"http://{self.headers.get('Host')}"
            headers["Link"] = f'<{host}{url.path}?{following}>; rel="next"'
        self._reply(200, items[(page - 1) * per : page * per], headers)

    def _handle(self, method: str) -> None:
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        st = self.state
        st.requests.append(Request(method, url.path, query, body))
        if self.headers.get("Authorization") != f"Bearer {st.token}":
            return self._reply(401, {"message": "Bad credentials", "status": "401"})
        prefix = f"/repos/{st.repo}"
        if not url.path.startswith(prefix):
            return self._reply(404, {"message": "Not Found"})
        route = url.path[len(prefix) :] or "/"
        key = method + " " + re.sub(r"/\d+", "/N", route)
        if key in st.fail:
            status, reply = st.fail[key]
            return self._reply(status, reply)
        if key in st.rate_limit_once:
            status, wait = st.rate_limit_once.pop(key)
            return self._reply(
                status,
                {"message": "API rate limit exceeded for installation."},
                {"Retry-After": str(wait), "X-RateLimit-Remaining": "0"},
            )
        return self._route(method, route, query, body)

    def _route(self, method: str, route: str, query: dict, body: Any) -> None:
        st = self.state
        owner = st.repo.split("/")[0]
        if method == "GET" and route == "/":
            return self._reply(200, {"full_name": st.repo, "default_branch": "main"})
        if route == "/pulls" and method == "GET":
            found = [
                p
                for p in st.pulls
                if p["state"] == query.get("state", "open")
                and (not query.get("head") or f"{owner}:{p['head']['ref']}" == query["head"])
                and (not query.get("base") or p["base"]["ref"] == query["base"])
            ]
            return self._page(found, query)
        if route == "/pulls" and method == "POST":
            missing = [k for k in ("title", "head", "base") if not body.get(k)]
            if missing:
                return self._reply(
                    422,
                    {
                        "message": "Validation Failed",
                        "errors": [
                            {"resource": "PullRequest", "field": k, "code": "missing_field"}
                            for k in missing
                        ],
                    },
                )
            if any(p["head"]["ref"] == body["head"] and p["state"] == "open" for p in st.pulls):
                return self._reply(
                    422,
                    {
                        "message": "Validation Failed",
                        "errors": [
                            {
                                "message": f"A pull request already exists for {owner}:{body['head']}."
                            }
                        ],
                    },
                )
            n = st.number()
            pull = {
                "number": n,
                "state": "open",
                "title": body["title"],
                "body": body.get("body"),
                "head": {"ref": body["head"]},
                "base": {"ref": body["base"]},
                "html_url": f"https://github.example/{st.repo}/pull/{n}",
            }
            st.pulls.append(pull)
            return self._reply(201, pull)
        if m := re.fullmatch(r"/pulls/(\d+)", route):
            pull = next((p for p in st.pulls if p["number"] == int(m[1])), None)
            if pull is None:
                return self._reply(404, {"message": "Not Found"})
            if method == "PATCH":
                pull.update({k: v for k, v in body.items() if k in ("title", "body", "state")})
            return self._reply(200, pull)
        if m := re.fullmatch(r"/issues/(\d+)/comments", route):
            n = int(m[1])
            if method == "GET":
                return self._page([c for c in st.comments if c["issue"] == n], query)
            comment = {
                "id": st.number(),
                "issue": n,
                "body": body["body"],
                "html_url": f"https://github.example/{st.repo}/issues/{n}#comment",
            }
            st.comments.append(comment)
            return self._reply(201, comment)
        if m := re.fullmatch(r"/issues/comments/(\d+)", route):
            comment = next((c for c in st.comments if c["id"] == int(m[1])), None)
            if comment is None:
                return self._reply(404, {"message": "Not Found"})
            comment["body"] = body["body"]
            return self._reply(200, comment)
        if route == "/issues" and method == "GET":
            return self._page(
                [i for i in st.issues if i["state"] == query.get("state", "open")], query
            )
        if route == "/issues" and method == "POST":
            n = st.number()
            issue = {
                "number": n,
                "state": "open",
                "title": body["title"],
                "body": body.get("body"),
                "labels": [{"name": x} for x in body.get("labels", [])],
                "html_url": f"https://github.example/{st.repo}/issues/{n}",
            }
            st.issues.append(issue)
            return self._reply(201, issue)
        return self._reply(404, {"message": "Not Found"})

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")
