"""The template's versions, as copier needs them: a local git repository, one tagged commit each.

`copier update` merges a newer template into a project three ways, so it needs the template the
project was made from as well as the new one, both in one git repository (the project's
`.copier-answers.yml` records the tag). fullcycle ships its template inside the package
(fullcycle/template/), so every fullcycle version that runs `init` or `init --update` on a machine
adds its own template to this machine's store (`~/.cache/fullcycle/template`, or
$FULLCYCLE_TEMPLATE_STORE) as a commit tagged `v<version>`. Nothing is fetched: an update works
offline as long as the older version was installed here once, or a local clone of fullcycle's
repository has its release tag (`import_version`).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import fullcycle
from fullcycle.core.errors import FullcycleError
from fullcycle.lifecycle.gitutil import git, git_ok

TEMPLATE_DIR = Path(fullcycle.__file__).parent / "template"
DEFAULT_STORE = "~/.cache/fullcycle/template"
# The store is this machine's cache, not anyone's history: its commits carry a fixed identity.
IDENTITY = ("-c", "user.name=fullcycle", "-c", "user.email=fullcycle@localhost")
# In fullcycle's own repository the template lives here (`import_version` reads a release tag's).
TEMPLATE_IN_REPO = "src/fullcycle/template"


def store_location() -> str:
    """The store as copier's answers file records it (`~` kept: the same text on every machine)."""
    return os.environ.get("FULLCYCLE_TEMPLATE_STORE") or DEFAULT_STORE


def store_path() -> Path:
    return Path(store_location()).expanduser()


def tag_of(version: str) -> str:
    return f"v{version}"


@contextmanager
def _locked(store: Path) -> Iterator[None]:
    """One writer at a time (two `fullcycle init` at once on one machine)."""
    store.parent.mkdir(parents=True, exist_ok=True)
    with open(store.parent / f".{store.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _git(store: Path, *args: str) -> str:
    return git(*IDENTITY, *args, cwd=store)


def ensure_version(
    version: str = fullcycle.__version__, template: Path = TEMPLATE_DIR, store: Path | None = None
) -> str:
    """The tag of `template` (this fullcycle's, by default) in the store, committing it if new.

    A template whose files equal a tagged commit's reuses that tag. A changed template under a
    version already tagged (a development install) gets `v<version>.post<N>`, which copier orders
    after `v<version>`, so an update to it is an upgrade."""
    store = store or store_path()
    if not (template / "copier.yml").is_file():
        raise FullcycleError(f"{template} is not a fullcycle template (no copier.yml).")
    with _locked(store):
        if not (store / ".git").is_dir():
            store.mkdir(parents=True, exist_ok=True)
            _git(store, "init", "--quiet", "-b", "main")
        _replace_files(store, template)
        _git(store, "add", "--all")
        tag = _tag_of_tree(store)
        if tag is not None:
            return tag
        count = _git(store, "rev-list", "--count", "--all") if _has_commits(store) else "0"
        tag = tag_of(version)
        if git_ok("rev-parse", "--verify", "--quiet", f"refs/tags/{tag}", cwd=store):
            tag = f"{tag}.post{int(count)}"
        _git(store, "commit", "--quiet", "--allow-empty", "-m", f"fullcycle {version}'s template")
        _git(store, "tag", tag)
        return tag


def _has_commits(store: Path) -> bool:
    return git_ok("rev-parse", "--verify", "--quiet", "HEAD", cwd=store)


def _replace_files(store: Path, template: Path) -> None:
    """The store's work tree becomes exactly `template` (bytecode left out)."""
    for entry in store.iterdir():
        if entry.name != ".git":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(template, store, dirs_exist_ok=True, ignore=skip)


def _tag_of_tree(store: Path) -> str | None:
    """The newest tag whose commit has exactly the staged files, if any."""
    tree = _git(store, "write-tree")
    if not _has_commits(store):
        return None
    for line in _git(store, "tag", "--sort=-creatordate", "--format=%(refname:short)").split():
        if _git(store, "rev-parse", f"{line}^{{tree}}") == tree:
            return line
    return None


def has_tag(tag: str, store: Path | None = None) -> bool:
    store = store or store_path()
    return (store / ".git").is_dir() and git_ok(
        "rev-parse", "--verify", "--quiet", f"refs/tags/{tag}", cwd=store
    )


def import_version(repo: Path, tag: str, store: Path | None = None) -> None:
    """Add the template of fullcycle's release `tag` from a local clone of fullcycle's repository
    (no network: any clone, mirror or bundle a person has) to the store, under the same tag."""
    if not git_ok("rev-parse", "--verify", "--quiet", f"{tag}^{{commit}}", cwd=repo):
        raise FullcycleError(
            f"{repo} has no tag {tag}: give --template-repo a clone of fullcycle's repository "
            f"that has the release this project was made from ({tag})."
        )
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(  # the whole tree: the template links to the repository's conf/
            ["git", "archive", "--format=tar", tag],
            cwd=repo,
            capture_output=True,
            check=False,
        )
        subprocess.run(
            ["tar", "-x", "-C", tmp], input=archive.stdout, check=archive.returncode == 0
        )
        if not Path(tmp, TEMPLATE_IN_REPO, "copier.yml").is_file():
            raise FullcycleError(f"{repo} at {tag} has no {TEMPLATE_IN_REPO}/ to take.")
        got = ensure_version(tag.removeprefix("v"), Path(tmp, TEMPLATE_IN_REPO), store)
    if got != tag:
        raise FullcycleError(
            f"the store already holds {tag} with other files (as {got}); remove "
            f"{store or store_path()} and run the update again."
        )
