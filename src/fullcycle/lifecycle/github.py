"""A small GitHub REST client for pull requests, comments and issues: create or update, never duplicate.

Configured by the standard Actions variables: GITHUB_API_URL (default https://api.github.com),
GITHUB_REPOSITORY (owner/name; else read from the `origin` URL), GITHUB_TOKEN, GITHUB_SERVER_URL.
Each error says what GitHub answered and what to check. Lists follow GitHub's `Link` pagination.
Retries (tenacity): reads and updates on 5xx and timeouts; every request on a rate limit (403/429,
waiting as long as `Retry-After` says) or a refused connection; a creation that may have reached
GitHub never (a retried POST could open a second PR): re-running the command is the retry.
The token is never printed: not in repr, logs or errors.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from fullcycle.core.errors import FullcycleError
from fullcycle.lifecycle.gitutil import remote_url

DEFAULT_API = "https://api.github.com"
DEFAULT_SERVER = "https://github.com"


class GitHubError(FullcycleError):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def repo_from_env() -> str | None:
    """owner/name from GITHUB_REPOSITORY, else from a github.com `origin` URL."""
    repo = os.environ.get("GITHUB_REPOSITORY")
    if repo:
        return repo
    match = re.search(r"github\.com[:/]([\w.-]+/[\w.-]+?)(?:\.git)?/?$", remote_url() or "")
    return match.group(1) if match else None


def compare_url(repo: str, base: str, head: str) -> str:
    server = os.environ.get("GITHUB_SERVER_URL", DEFAULT_SERVER).rstrip("/")
    return f"{server}/{repo}/compare/{base}...{head}?expand=1"


class _Again(Exception):
    """A transient answer (5xx on a read, a rate limit, a dropped connection): try again."""

    def __init__(self, response: httpx.Response | None, wait: float | None = None) -> None:
        super().__init__(response.status_code if response is not None else "no connection")
        self.response, self.wait = response, wait


def rate_limit_wait(response: httpx.Response) -> float | None:
    """Seconds GitHub asks us to wait (403/429 with Retry-After or an exhausted quota), else None."""
    if response.status_code not in (403, 429):
        return None
    headers = response.headers
    if headers.get("retry-after", "").strip().isdigit():
        return float(headers["retry-after"])
    if (
        headers.get("x-ratelimit-remaining") == "0"
        and headers.get("x-ratelimit-reset", "").isdigit()
    ):
        return max(0.0, float(headers["x-ratelimit-reset"]) - time.time())
    return 60.0 if response.status_code == 429 else None  # GitHub: wait at least a minute


@dataclass
class GitHub:
    api_url: str
    repo: str
    token: str = field(repr=False)  # never printed: repr, logs and errors leave it out
    timeout: float = 15.0
    retries: int = 2
    backoff: float = 0.5  # seconds before the first retry, doubled after
    max_wait: float = 90.0  # the longest rate-limit wait we sit out; longer ones are an error

    @classmethod
    def from_env(cls) -> GitHub | None:
        """A client when GITHUB_TOKEN is set (None otherwise: callers print what they would send)."""
        token = os.environ.get("GITHUB_TOKEN")
        if not token:
            return None
        repo = repo_from_env()
        if not repo:
            raise FullcycleError(
                "GITHUB_TOKEN is set but the repository is unknown: set GITHUB_REPOSITORY=owner/name "
                "(Actions sets it), or use a github.com URL for the `origin` remote."
            )
        return cls(os.environ.get("GITHUB_API_URL", DEFAULT_API).rstrip("/"), repo, token)

    # --- transport ------------------------------------------------------------------------------
    def _wait(self, state: RetryCallState) -> float:
        again = state.outcome.exception() if state.outcome else None
        if isinstance(again, _Again) and again.wait is not None:
            return again.wait
        return self.backoff * 2 ** (state.attempt_number - 1)

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request, retried with tenacity when that is safe: reads (GET, PATCH) on 5xx and
        timeouts; any method on a rate limit (GitHub did not act on it) or a refused connection
        (nothing was sent). A POST that may have reached GitHub is never repeated."""
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        }
        idempotent = method in ("GET", "PATCH")

        def attempt() -> httpx.Response:
            try:
                response = httpx.request(
                    method, url, headers=headers, timeout=self.timeout, **kwargs
                )
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                raise _Again(None) from exc
            except httpx.TransportError as exc:
                if idempotent:
                    raise _Again(None) from exc
                raise
            wait = rate_limit_wait(response)
            if wait is not None and wait <= self.max_wait:
                raise _Again(response, wait)
            if idempotent and response.status_code >= 500:
                raise _Again(response)
            return response

        retrying = Retrying(
            stop=stop_after_attempt(1 + self.retries),
            wait=self._wait,
            retry=retry_if_exception_type(_Again),
            reraise=True,
        )
        try:
            return retrying(attempt)
        except _Again as again:
            if again.response is not None:
                return again.response
            cause = again.__cause__
        except httpx.HTTPError as exc:
            cause = exc
        raise GitHubError(
            f"cannot reach the GitHub API at {self.api_url} ({type(cause).__name__}: {cause}). "
            "Check GITHUB_API_URL and the network; nothing was changed on GitHub."
        ) from None

    def _call(self, method: str, path_or_url: str, **kwargs: Any) -> httpx.Response:
        url = path_or_url if "://" in path_or_url else f"{self.api_url}{path_or_url}"
        response = self._send(method, url, **kwargs)
        if response.status_code >= 400:
            raise self._error(method, url.removeprefix(self.api_url), response)
        return response

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._call(method, path, **kwargs)
        return response.json() if response.content else None

    def _error(self, method: str, path: str, response: httpx.Response) -> GitHubError:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = {}
        said = body.get("message") or response.reason_phrase
        details = "; ".join(
            e.get("message")
            or f"{e.get('resource', '')} {e.get('field', '')} {e.get('code', '')}".strip()
            for e in body.get("errors") or []
            if isinstance(e, dict)
        )
        said += f" ({details})" if details else ""
        where = f"{method} {path}"
        wait = rate_limit_wait(response)
        if wait is not None:
            hint = (
                f"GitHub's rate limit was hit and it asks to wait {wait:.0f} s (more than the "
                f"{self.max_wait:.0f} s we wait): run the command again later."
            )
        elif status == 401:
            hint = "GITHUB_TOKEN was rejected: it is wrong or expired. Set a valid token."
        elif status == 403:
            hint = (
                "the token may not do this: it needs contents, pull-requests and issues write "
                "permission."
            )
        elif status == 404:
            hint = (
                f"repository '{self.repo}' or the object was not found: check GITHUB_REPOSITORY "
                "and that the token can see it."
            )
        elif status == 422:
            hint = "GitHub rejected the request as invalid: see its message above."
        elif status >= 500:
            hint = "GitHub is failing right now: run the command again later (it updates, never duplicates)."
        else:
            hint = "unexpected answer from GitHub."
        return GitHubError(f"GitHub API {where} answered HTTP {status}: {said}. {hint}", status)

    def _pages(self, path: str, params: dict[str, Any] | None = None) -> list[dict]:
        """Every item of a list endpoint, following GitHub's `Link: <...>; rel="next"` headers."""
        items: list[dict] = []
        response = self._call("GET", path, params={**(params or {}), "per_page": 100})
        for _ in range(100):  # 10,000 items: far beyond any PR's comments
            items += response.json() or []
            following = response.links.get("next", {}).get("url")
            if not following:
                break
            response = self._call("GET", following)
        return items

    # --- operations -----------------------------------------------------------------------------
    def check_access(self) -> dict:
        """GET the repository: fails early (401/403/404) before anything is pushed."""
        return self.request("GET", f"/repos/{self.repo}")

    def find_pull(self, head: str, base: str) -> dict | None:
        owner = self.repo.split("/")[0]
        pulls = self._pages(
            f"/repos/{self.repo}/pulls",
            {"state": "open", "head": f"{owner}:{head}", "base": base},
        )
        return next((p for p in pulls if p.get("head", {}).get("ref") == head), None)

    def upsert_pull(self, head: str, base: str, title: str, body: str) -> tuple[dict, bool]:
        """Update the open PR from `head` into `base`, or open one. Returns (pull, created)."""
        existing = self.find_pull(head, base)
        if existing:
            pull = self.request(
                "PATCH",
                f"/repos/{self.repo}/pulls/{existing['number']}",
                json={"title": title, "body": body},
            )
            return pull, False
        pull = self.request(
            "POST",
            f"/repos/{self.repo}/pulls",
            json={"title": title, "body": body, "head": head, "base": base},
        )
        return pull, True

    def upsert_comment(self, number: int, body: str, marker: str) -> tuple[dict, bool]:
        """Edit our earlier comment (found by its hidden `marker`) on issue/PR `number`, or add one."""
        body = body if marker in body else f"{body}\n\n{marker}"
        for comment in self._pages(f"/repos/{self.repo}/issues/{number}/comments"):
            if marker in (comment.get("body") or ""):
                updated = self.request(
                    "PATCH",
                    f"/repos/{self.repo}/issues/comments/{comment['id']}",
                    json={"body": body},
                )
                return updated, False
        created = self.request(
            "POST", f"/repos/{self.repo}/issues/{number}/comments", json={"body": body}
        )
        return created, True

    def open_issue(self, title: str, body: str, labels: list[str]) -> tuple[dict, bool]:
        """Open an issue, or comment on the open one with the same title (one issue per problem)."""
        params = {"state": "open"} | ({"labels": ",".join(labels)} if labels else {})
        for issue in self._pages(f"/repos/{self.repo}/issues", params):
            if issue.get("title") == title and "pull_request" not in issue:
                self.request(
                    "POST",
                    f"/repos/{self.repo}/issues/{issue['number']}/comments",
                    json={"body": body},
                )
                return issue, False
        issue = self.request(
            "POST",
            f"/repos/{self.repo}/issues",
            json={"title": title, "body": body, "labels": labels},
        )
        return issue, True
