"""The GitHub client against the local fake API: create-or-update semantics and every error kind."""

from __future__ import annotations

import time

import pytest

from fullcycle.lifecycle.github import GitHub, GitHubError, compare_url, repo_from_env
from tests.lifecycle.fake_github import FakeGitHub


@pytest.fixture
def fake():
    with FakeGitHub() as server:
        yield server


def client(fake: FakeGitHub, token: str | None = None) -> GitHub:
    return GitHub(fake.url, fake.state.repo, token or fake.state.token)


def test_upsert_pull_opens_once_then_updates(fake):
    gh = client(fake)
    pull, created = gh.upsert_pull("promote/a", "main", "Promote a", "first")
    assert created and pull["number"] == 1
    pull, created = gh.upsert_pull("promote/a", "main", "Promote a (again)", "second")
    assert not created and pull["number"] == 1
    assert len(fake.state.pulls) == 1
    assert fake.state.pulls[0]["body"] == "second"
    assert fake.state.pulls[0]["title"] == "Promote a (again)"
    # a PR from another branch is another PR
    _, created = gh.upsert_pull("promote/b", "main", "Promote b", "x")
    assert created and len(fake.state.pulls) == 2


def test_upsert_comment_edits_in_place(fake):
    gh = client(fake)
    first, created = gh.upsert_comment(7, "metrics v1", "<!-- m -->")
    assert created
    second, created = gh.upsert_comment(7, "metrics v2", "<!-- m -->")
    assert not created and second["id"] == first["id"]
    assert [c["body"] for c in fake.state.comments] == ["metrics v2\n\n<!-- m -->"]
    # another marker is another comment
    gh.upsert_comment(7, "other", "<!-- n -->")
    assert len(fake.state.comments) == 2


def test_open_issue_comments_on_the_open_one(fake):
    gh = client(fake)
    issue, created = gh.open_issue("Drift", "day 1", ["drift"])
    assert created
    again, created = gh.open_issue("Drift", "day 2", ["drift"])
    assert not created and again["number"] == issue["number"]
    assert len(fake.state.issues) == 1
    assert [c["body"] for c in fake.state.comments] == ["day 2"]


def test_401_names_the_token(fake):
    with pytest.raises(GitHubError, match="HTTP 401: Bad credentials.*GITHUB_TOKEN") as err:
        client(fake, token="wrong").check_access()
    assert err.value.status == 401


def test_404_names_the_repository(fake):
    gh = GitHub(fake.url, "acme/missing", fake.state.token)
    with pytest.raises(GitHubError, match="HTTP 404.*acme/missing.*GITHUB_REPOSITORY"):
        gh.check_access()


def test_422_carries_githubs_message(fake):
    fake.state.fail["POST /pulls"] = (
        422,
        {
            "message": "Validation Failed",
            "errors": [
                {
                    "resource": "PullRequest",
                    "code": "custom",
                    "message": "No commits between main and x",
                }
            ],
        },
    )
    with pytest.raises(GitHubError, match="HTTP 422: Validation Failed \\(No commits between"):
        client(fake).upsert_pull("x", "main", "t", "b")


def test_5xx_reads_are_retried_creations_are_not(fake):
    fake.state.fail["GET /pulls"] = (502, {"message": "Bad Gateway"})
    gh = client(fake)
    gh.retries, gh.backoff = 2, 0.01
    with pytest.raises(GitHubError, match="HTTP 502.*run the command again later"):
        gh.find_pull("x", "main")
    assert len(fake.state.calls("GET", "/pulls")) == 3
    del fake.state.fail["GET /pulls"]
    fake.state.fail["POST /pulls"] = (503, {"message": "Service Unavailable"})
    with pytest.raises(GitHubError, match="HTTP 503"):
        gh.upsert_pull("x", "main", "t", "b")
    assert len(fake.state.calls("POST", "/pulls")) == 1  # never retried: no duplicate PRs


def test_unreachable_api_is_a_clear_error():
    gh = GitHub("http://127.0.0.1:9", "acme/project", "t", timeout=2)
    with pytest.raises(GitHubError, match="cannot reach the GitHub API at http://127.0.0.1:9"):
        gh.check_access()


def test_repository_and_compare_url_from_the_environment(monkeypatch):
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/project")
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.example")
    assert repo_from_env() == "acme/project"
    assert compare_url("acme/project", "main", "promote/a") == (
        "https://github.example/acme/project/compare/main...promote/a?expand=1"
    )
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    assert GitHub.from_env() is None  # no token: callers print what they would send


def test_lists_follow_the_link_header_across_pages(fake):
    """250 comments: three pages of 100; ours is on the last one and is edited, not duplicated."""
    fake.state.comments = [
        {"id": 1000 + i, "issue": 5, "body": f"someone else {i}"} for i in range(249)
    ] + [{"id": 2000, "issue": 5, "body": "old\n\n<!-- m -->"}]
    comment, created = client(fake).upsert_comment(5, "new", "<!-- m -->")
    assert not created and comment["id"] == 2000
    pages = [r.query.get("page", "1") for r in fake.state.calls("GET", "/issues/5/comments")]
    assert pages == ["1", "2", "3"]
    assert len(fake.state.comments) == 250


@pytest.mark.parametrize("status", [403, 429])
def test_a_rate_limit_is_waited_out_as_retry_after_says(fake, status):
    fake.state.rate_limit_once["POST /pulls"] = (status, 1)
    start = time.perf_counter()
    _, created = client(fake).upsert_pull("promote/a", "main", "t", "b")
    assert created and time.perf_counter() - start >= 1.0  # waited Retry-After
    # the limited POST did nothing on GitHub, so repeating it opened exactly one PR
    assert len(fake.state.calls("POST", "/pulls")) == 2 and len(fake.state.pulls) == 1


def test_a_rate_limit_longer_than_we_wait_is_a_clear_error(fake):
    fake.state.rate_limit_once["GET /"] = (429, 3600)
    with pytest.raises(GitHubError, match="rate limit was hit and it asks to wait 3600 s"):
        client(fake).check_access()
    assert len(fake.state.requests) == 1  # not retried


def test_a_refused_connection_is_retried():
    gh = GitHub("http://127.0.0.1:9", "acme/project", "t", timeout=2, retries=2, backoff=0.01)
    start = time.perf_counter()
    with pytest.raises(GitHubError, match="cannot reach"):
        gh.check_access()
    assert time.perf_counter() - start >= 0.03  # 0.01 + 0.02: two retries happened


def test_the_token_is_never_printed(fake, caplog):
    """repr, str, logs (httpx/httpcore at DEBUG) and errors of the client leave the token out."""
    import logging

    token = "ghp_" + "s3cr3t" * 6
    gh = GitHub(fake.url, fake.state.repo, token)
    assert token not in repr(gh) and token not in str(gh)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(GitHubError) as err:  # the fake rejects this token: 401
        gh.check_access()
    fake.state.fail["GET /"] = (500, {"message": "boom"})
    with pytest.raises(GitHubError) as err5:
        GitHub(fake.url, fake.state.repo, token, retries=1, backoff=0.01).check_access()
    for text in (str(err.value), repr(err.value), str(err5.value), caplog.text):
        assert token not in text
    assert "HTTP Request" in caplog.text or "send_request" in caplog.text  # logs were captured
