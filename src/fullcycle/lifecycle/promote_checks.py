"""What `fullcycle promote` checks before anything is written: the base branch and its gate, read
from origin (never from the candidate), and a workspace whose uncommitted changes are at most an
experiment applied to it."""

from __future__ import annotations

from fullcycle.core.errors import FullcycleError
from fullcycle.core.schema_release import Promote
from fullcycle.lifecycle import experiments
from fullcycle.lifecycle.gate_settings import settings
from fullcycle.lifecycle.gitutil import dirty_files, git, git_ok, require_remote, rev_parse

DVC_CONFIG = ".dvc/config"  # tracked; `dvc remote add --local` writes the untracked config.local


def remote_base() -> tuple[str, str, Promote]:
    """(base branch, its sha on origin, the gate) read from origin after a fetch — never from the
    candidate or a local branch, so a candidate cannot loosen its own gate. `promote.base` is read
    from origin's default branch; the gate from the base branch it names."""
    require_remote("origin")
    head = git("ls-remote", "--symref", "origin", "HEAD")
    default = next(
        (
            ln.split()[1].removeprefix("refs/heads/")
            for ln in head.splitlines()
            if ln.startswith("ref:")
        ),
        None,
    )
    if default is None:
        raise FullcycleError(
            "origin does not say which branch is its default (`git ls-remote --symref origin "
            "HEAD` names none): promote.base is read from that branch. Point origin's HEAD at "
            "it: on GitHub, the repository's default branch; in a bare repository, `git "
            "--git-dir=PATH/TO/origin.git symbolic-ref HEAD refs/heads/main`."
        )
    base = settings(fetch_branch(default), f"origin/{default}").base
    base_sha = fetch_branch(base)
    return base, base_sha, settings(base_sha, f"origin/{base}")


def fetch_branch(branch: str) -> str:
    """Fetch origin's `branch` into origin/<branch>; its sha."""
    if not git_ok("fetch", "-q", "origin", f"+refs/heads/{branch}:refs/remotes/origin/{branch}"):
        raise FullcycleError(
            f"cannot fetch branch '{branch}' from origin: promotion PRs target it (promote.base "
            "on origin's default branch). Push it first, or check `git remote -v`."
        )
    return rev_parse(f"refs/remotes/origin/{branch}") or ""


def require_clean_or_applied(exp: experiments.Run) -> None:
    """Uncommitted changes block promotion unless they are an experiment `dvc exp run` (or `dvc
    exp apply`) left in the workspace — its params.yaml, dvc.lock, metrics: promote builds its
    branch from the experiment's own commit, so those changes are neither lost nor needed. The
    refusal names only the files in the way: those that differ from the applied experiment (the
    run the workspace matches best), not the experiment's own outputs."""
    dirty = dirty_files()
    if not dirty:
        return
    in_way = files_in_the_way(exp.rev, dirty)
    if in_way:
        _, others = experiments.candidates("HEAD")  # another one may be the applied one
        for run in others:
            if run.rev != exp.rev:
                in_way = min(in_way, files_in_the_way(run.rev, dirty), key=len)
            if not in_way:
                break
    if in_way:
        raise FullcycleError(refusal(in_way))


def files_in_the_way(rev: str, dirty: list[str]) -> list[str]:
    """The uncommitted files whose content is not the one committed at `rev`."""
    return git("diff", "--name-only", "--no-renames", rev, "--", *dirty).splitlines()


def refusal(files: list[str]) -> str:
    """One line: which uncommitted files block promotion, and the command that clears them."""
    shown = ", ".join(files[:8]) + (f" and {len(files) - 8} more" if len(files) > 8 else "")
    text = (
        f"cannot promote: uncommitted changes in {shown} are not part of an experiment applied "
        "to the workspace."
    )
    if DVC_CONFIG in files:  # `dvc remote add -d` writes the tracked config: say both ways out
        text += (
            f" A DVC remote in {DVC_CONFIG} is the team's: commit it (`git commit -m 'DVC "
            f"remote' {DVC_CONFIG}`); or keep it yours alone: `git restore {DVC_CONFIG} && "
            "dvc remote add --local -d NAME URL` (writes the untracked .dvc/config.local)."
        )
        files = [f for f in files if f != DVC_CONFIG]
    if files:
        text += (
            f" Commit {'it' if len(files) == 1 else 'them'} (`git commit`) or put "
            f"{'it' if len(files) == 1 else 'them'} aside (`git stash`)."
        )
    return text + " Then run `fullcycle promote` again."
