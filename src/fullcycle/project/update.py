"""`fullcycle init --update`: merge this fullcycle's template into a project made by an older one.

copier update renders the template version the project was made from (`_commit` in
.copier-answers.yml) and this fullcycle's, both with the project's answers, and applies the
difference between them to the project three ways: files fullcycle owns change, the project's own
values and data stay. Where both changed the same lines the file keeps both with conflict markers:
fullcycle lists them and exits 1 without committing (resolve, then commit). A clean merge is
followed by `fullcycle params` (conf/ may have new keys) and one commit.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import yaml

from fullcycle.core.errors import FullcycleError
from fullcycle.lifecycle.gitutil import git, repo_root, require_clean
from fullcycle.project import store

ANSWERS = ".copier-answers.yml"


def recorded(root: Path) -> dict:
    path = root / ANSWERS
    if not path.is_file():
        raise FullcycleError(
            f"{root} has no {ANSWERS}: `fullcycle init --update` updates a project made by "
            "`fullcycle init`. Run it from that project's root."
        )
    answers = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not answers.get("_commit"):
        raise FullcycleError(f"{path} records no template version (_commit): it cannot be updated.")
    if answers.get("_src_path") != store.store_location():
        raise FullcycleError(
            f"{path} names the template store {answers.get('_src_path')}, this machine uses "
            f"{store.store_location()}: set FULLCYCLE_TEMPLATE_STORE={answers.get('_src_path')}."
        )
    return answers


def update_project(root: Path, template_repo: str | None = None) -> int:
    from copier import run_update

    if repo_root(root).resolve() != root.resolve():
        raise FullcycleError(f"run `fullcycle init --update` from the project root ({root}).")
    old = str(recorded(root)["_commit"])
    require_clean("update the project's template", cwd=root)
    if not store.has_tag(old):
        if not template_repo:
            raise FullcycleError(
                f"the project was made from fullcycle's template {old}, which this machine's "
                f"store ({store.store_location()}) does not hold: give --template-repo PATH, a "
                f"local clone of fullcycle's repository with the tag {old}."
            )
        store.import_version(Path(template_repo), old)
    new = store.ensure_version()
    if new == old:
        print(f"the project is already at fullcycle's template {new}: nothing to update.")
        return 0
    run_update(
        str(root),
        vcs_ref=new,
        defaults=True,
        overwrite=True,
        skip_answered=True,
        conflict="inline",
        quiet=True,
    )
    conflicts = conflicted(root)
    if conflicts:
        print(
            f"merged fullcycle's template {new} (was {old}) with conflicts in:\n  "
            + "\n  ".join(conflicts)
            + "\nBoth the template and this project changed those lines: edit the marked lines "
            "(<<<<<<< / >>>>>>>), then run `fullcycle params` and commit. Nothing was committed."
        )
        return 1
    return commit_update(root, old, new)


def conflicted(root: Path) -> list[str]:
    """Files git records as unmerged, and any file left with conflict markers."""
    unmerged = set(git("diff", "--name-only", "--diff-filter=U", cwd=root).split())
    for name in git("diff", "--name-only", cwd=root).split():
        path = root / name
        if path.is_file() and "\n<<<<<<< " in "\n" + path.read_text(errors="replace"):
            unmerged.add(name)
    return sorted(unmerged)


def commit_update(root: Path, old: str, new: str) -> int:
    from fullcycle.core import params

    with contextlib.chdir(root):
        params.write()
    git("add", "--all", cwd=root)
    changed = git("diff", "--cached", "--name-only", cwd=root).split()
    git("commit", "--quiet", "-m", f"Take fullcycle's template {new} (was {old})", cwd=root)
    print(
        f"updated to fullcycle's template {new} (was {old}); one commit, {len(changed)} files:\n  "
        + "\n  ".join(changed)
    )
    return 0
