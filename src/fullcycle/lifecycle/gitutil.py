"""git and dvc as subprocesses: one place that runs them and turns their failures into plain errors.

The lifecycle commands are glue over git and DVC, so everything here is a thin call with the tool's
own message kept: a person reading "git push failed: ... rejected ..." knows what to do next.
Commits for promotion are built with git plumbing (a temporary index), so the user's working tree
and checked-out branch are never touched.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from fullcycle.core.errors import FullcycleError


def _run(tool: str, args: tuple[str, ...], cwd: str | Path | None, check: bool, env=None, **kw):
    try:
        done = subprocess.run([tool, *args], cwd=cwd, capture_output=True, text=True, env=env, **kw)
    except FileNotFoundError:
        raise FullcycleError(f"`{tool}` is not installed or not on PATH.") from None
    if check and done.returncode != 0:
        message = [
            line
            for line in (done.stderr.strip() or done.stdout.strip()).splitlines()
            if line.strip() and "Having any troubles?" not in line  # dvc's support footer
        ]
        detail = "\n  ".join(message[-8:]) or f"exit code {done.returncode}"
        raise FullcycleError(f"`{tool} {' '.join(args[:3])}` failed:\n  {detail}")
    return done


def git(*args: str, cwd: str | Path | None = None, check: bool = True, env=None) -> str:
    """Run git and return its stdout (stripped); a failure is a FullcycleError with git's message."""
    return _run("git", args, cwd, check, env).stdout.strip()


def git_ok(*args: str, cwd: str | Path | None = None) -> bool:
    """True when git exits 0 (for questions like "does this ref exist")."""
    return _run("git", args, cwd, check=False).returncode == 0


def dvc(*args: str, cwd: str | Path | None = None, check: bool = True) -> str:
    """Run the dvc CLI (from the same environment as fullcycle, even when that environment is
    not on PATH, e.g. `.venv/bin/fullcycle ...`) and return its stdout."""
    env = os.environ | {"DVC_NO_ANALYTICS": "1"}
    beside = Path(sys.executable).parent / "dvc"
    return _run(str(beside) if beside.is_file() else "dvc", args, cwd, check, env).stdout


def repo_root(cwd: str | Path | None = None) -> Path:
    done = _run("git", ("rev-parse", "--show-toplevel"), cwd, check=False)
    if done.returncode != 0:
        raise FullcycleError(
            f"{Path(cwd or Path.cwd()).resolve()} is not inside a git repository: the lifecycle "
            "commands record everything in git. Run them from the project root."
        )
    return Path(done.stdout.strip())


def rev_parse(ref: str, cwd: str | Path | None = None) -> str | None:
    """The commit a ref points at, or None when it does not exist."""
    done = _run("git", ("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"), cwd, False)
    return done.stdout.strip() or None


def current_branch(cwd: str | Path | None = None) -> str | None:
    """The checked-out branch, or None on a detached HEAD."""
    done = _run("git", ("symbolic-ref", "--quiet", "--short", "HEAD"), cwd, check=False)
    return done.stdout.strip() or None


def dirty_files(cwd: str | Path | None = None) -> list[str]:
    """Tracked files with uncommitted changes (staged or not). Untracked files do not count:
    nothing the lifecycle commits comes from them."""
    out = _run("git", ("status", "--porcelain", "--untracked-files=no"), cwd, True).stdout
    return [line[3:] for line in out.splitlines() if line.strip()]  # "XY path"


def require_clean(action: str, cwd: str | Path | None = None) -> None:
    dirty = dirty_files(cwd)
    if dirty:
        shown = ", ".join(dirty[:5]) + (f" and {len(dirty) - 5} more" if len(dirty) > 5 else "")
        raise FullcycleError(
            f"cannot {action}: the working tree has uncommitted changes ({shown}). "
            "Commit or stash them first, so what is recorded is exactly what was run."
        )


def remote_url(name: str = "origin", cwd: str | Path | None = None) -> str | None:
    done = _run("git", ("remote", "get-url", name), cwd, check=False)
    return done.stdout.strip() or None


def require_remote(name: str = "origin", cwd: str | Path | None = None) -> str:
    url = remote_url(name, cwd)
    if not url:
        raise FullcycleError(
            f"this repository has no git remote '{name}': add one with "
            f"`git remote add {name} URL` before pushing."
        )
    return url


def remote_ref(ref: str, remote: str = "origin", cwd: str | Path | None = None) -> str | None:
    """The commit `ref` points at on the remote, or None when it is not there."""
    out = git("ls-remote", remote, ref, cwd=cwd)
    return out.split()[0] if out else None


def show_file(rev: str, path: str, cwd: str | Path | None = None) -> str | None:
    """A git-tracked file's text at `rev`, or None when it is not there."""
    done = _run("git", ("show", f"{rev}:{path}"), cwd, check=False)
    return done.stdout if done.returncode == 0 else None


def commit_files(
    parent: str,
    files: Mapping[str, str],
    message: str,
    cwd: str | Path | None = None,
) -> str:
    """A new commit on top of `parent` with `files` (repo-relative path -> content) added or
    replaced; returns its sha. Uses a temporary index, so the working tree and HEAD are untouched."""
    with tempfile.TemporaryDirectory(prefix="fullcycle-index-") as tmp:
        env = os.environ | {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git("read-tree", parent, cwd=cwd, env=env)
        for path, content in files.items():
            blob = _run("git", ("hash-object", "-w", "--stdin"), cwd, True, env, input=content)
            blob = blob.stdout.strip()
            git("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", cwd=cwd, env=env)
        tree = git("write-tree", cwd=cwd, env=env)
    return git("commit-tree", tree, "-p", parent, "-m", message, cwd=cwd)


def dvc_remote(cwd: str | Path | None = None) -> str | None:
    """The default DVC remote's name, or None when none is configured (any config level)."""
    done = _run("dvc", ("remote", "default"), cwd, False, os.environ | {"DVC_NO_ANALYTICS": "1"})
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else None


def read_tracked(path: str, rev: str | None = None, repo: str | Path = ".") -> str | None:
    """A file's text at `rev` whether git or DVC tracks it (DVC reads its cache or remote).
    None only when `rev` has no such file; any other failure (an unknown rev, data missing from
    the cache and the remote, a broken remote) is an error that names the file: callers such as
    `release` must never carry on as if the file were simply absent."""
    import dvc.api
    from dvc.exceptions import DvcException, PathMissingError

    try:
        return dvc.api.read(path, repo=str(repo), rev=rev)
    except PathMissingError:
        return None
    except (DvcException, OSError) as exc:
        at = f" at {rev[:12]}" if rev else ""
        raise FullcycleError(
            f"cannot read {path}{at}: {exc}. If DVC tracks it, `dvc pull` it (or check "
            "`dvc remote list`); if git does, check the revision."
        ) from None


def push_data(revs: list[str], remote: str, repo: str | Path = ".") -> int:
    """Push the DVC-tracked outputs of `revs` (not the workspace) to `remote`; returns the count.
    The remote is the workspace's (config.local included): DVC reads each rev's own .dvc/config
    while it collects that rev's outputs, and a commit made before the remote was added (an
    experiment run before `dvc remote add`) does not name it."""
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    try:
        with Repo(str(repo)) as here:
            settings = {"remote": {remote: dict(here.config["remote"][remote])}}
        with Repo(str(repo), config=settings) as dvc_repo:  # merged into every rev's config
            return dvc_repo.push(revs=revs, workspace=False, remote=remote)
    except DvcException as exc:
        raise FullcycleError(
            f"pushing data to the DVC remote '{remote}' failed: {exc}. Nothing was pushed to git; "
            "check `dvc remote list` and that the remote is reachable, then run the command again."
        ) from None


@contextmanager
def undone_on_failure(*paths: str | Path) -> Iterator[None]:
    """Run the block; if it fails (Ctrl-C included), unstage `paths` and put each back as it was
    before the block (deleting those that did not exist), then re-raise: a failed command that
    writes files and commits them leaves no trace."""
    files = [Path(p) for p in paths]
    saved = {p: p.read_bytes() if p.is_file() else None for p in files}
    try:
        yield
    except BaseException:
        git("reset", "-q", "--", *map(str, files), check=False)
        for path, content in saved.items():
            if content is None:
                path.unlink(missing_ok=True)
            else:
                path.write_bytes(content)
        raise
