"""A small GitHub REST client for pull requests, comments and issues: create or update, never duplicate.

Configured by the standard Actions variables: GITHUB_API_URL (default https://api.github.com),
GITHUB_REPOSITORY (owner/name; else read from the `origin` URL), GITHUB_TOKEN, GITHUB_SERVER_URL.
Each error says what GitHub answered and what to check. Reads and updates are retried on 5xx;
creations are not (a retried POST could open a second PR): re-running the command is the retry.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from typing import Any

import httpx

from fullcycle.errors import FullcycleError
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


@dataclass
class GitHub:
    api_url: str
    repo: str
    token: str
    timeout: float = 15.0
    retries: int = 2
    backoff: float = 0.5  # seconds before the first retry, doubled after

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
    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        url = f"{self.api_url}{path}"
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        }
        attempts = 1 + (self.retries if method in ("GET", "PATCH") else 0)
        for attempt in range(attempts):
            try:
                response = httpx.request(
                    method, url, headers=headers, timeout=self.timeout, **kwargs
                )
            except httpx.HTTPError as exc:
                raise GitHubError(
                    f"cannot reach the GitHub API at {self.api_url} ({exc}). Check GITHUB_API_URL "
                    "and the network; nothing was changed on GitHub."
                ) from None
            if response.status_code < 500 or attempt == attempts - 1:
                break
            time.sleep(self.backoff * 2**attempt)
        if response.status_code >= 400:
            raise self._error(method, path, response)
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
        if status == 401:
            hint = "GITHUB_TOKEN was rejected: it is wrong or expired. Set a valid token."
        elif status == 403:
            hint = (
                "the token may not do this: it needs contents, pull-requests and issues write "
                "permission (or a rate limit was hit)."
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
        items: list[dict] = []
        for page in range(1, 51):
            batch = self.request(
                "GET", path, params={**(params or {}), "per_page": 100, "page": page}
            )
            items += batch or []
            if not batch or len(batch) < 100:
                break
        return items

    # --- operations -----------------------------------------------------------------------------
    def check_access(self) -> dict:
        """GET the repository: fails early (401/403/404) before anything is pushed."""
        return self.request("GET", f"/repos/{self.repo}")

    def find_pull(self, head: str, base: str) -> dict | None:
        owner = self.repo.split("/")[0]
        pulls = self.request(
            "GET",
            f"/repos/{self.repo}/pulls",
            params={"state": "open", "head": f"{owner}:{head}", "base": base},
        )
        return next((p for p in pulls or [] if p.get("head", {}).get("ref") == head), None)

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
