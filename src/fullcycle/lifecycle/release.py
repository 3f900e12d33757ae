"""`fullcycle release`: on main, the model at HEAD becomes a registered version with a stage.

GTO owns the registry grammar: an annotated tag `classifier@v0.2.0` registers a version and
`classifier#prod#3` assigns a stage; `dvc.yaml`'s `artifacts:` declares which path is the model.
A new version is registered only when the model itself changed (its hash in dvc.lock), so pushes
that touch only docs re-use the current version. The tags are created locally, the Bento is built,
and only then are the tags pushed in one atomic push; any failure deletes the tags it created.
The release's Bento (named after the version, stamped with the commit) lives in BentoML's store:
the package stage's exported archive is a DVC output, and a release leaves it as dvc.lock has it.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from fullcycle.core import paths
from fullcycle.core.errors import FullcycleError
from fullcycle.core.provenance import LOCK_FILE, locked_outs
from fullcycle.lifecycle import records
from fullcycle.lifecycle.experiments import EVAL_METRICS, headline
from fullcycle.lifecycle.gate_settings import settings
from fullcycle.lifecycle.gitutil import (
    current_branch,
    dvc,
    dvc_remote,
    git,
    read_tracked,
    repo_root,
    require_clean,
    require_remote,
    rev_parse,
    show_file,
)

LABELS = "data/processed/labels.json"
FIRST_VERSION = "v0.1.0"


def declared_artifact(name: str, rev: str = "HEAD") -> str:
    """The path `dvc.yaml` declares for artifact `name` at `rev`."""
    text = show_file(rev, "dvc.yaml") or ""
    artifacts = (yaml.safe_load(text) or {}).get("artifacts") or {}
    if name not in artifacts or not artifacts[name].get("path"):
        raise FullcycleError(
            f"dvc.yaml at {rev} declares no artifact '{name}': add\n  artifacts:\n    {name}:\n"
            f"      path: models/{name}\n      type: model\nand commit it (the registry tags refer to it)."
        )
    return str(artifacts[name]["path"]).rstrip("/")


def model_hash(path: str, rev: str) -> str | None:
    """The hash dvc.lock records for the output `path` at `rev` (None: not trained there)."""
    return locked_outs(show_file(rev, LOCK_FILE)).get(path)


def eval_metrics(rev: str) -> dict[str, float]:
    """The headline test metrics at `rev` (test.f1_macro, ...). A release is never recorded
    without them: a missing or unreadable metrics file is an error, not an empty record."""
    text = read_tracked(EVAL_METRICS, rev)
    if text is None:
        raise FullcycleError(
            f"{EVAL_METRICS} is not committed at {rev[:7]}: a release records the model's test "
            "metrics. Run `dvc repro`, commit dvc.lock and reports/, and release again."
        )
    try:
        tree = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FullcycleError(f"{EVAL_METRICS} at {rev[:7]} is not valid JSON ({exc}).") from None
    flat = {k: v for k, v in headline(tree).items() if k.startswith("test.")}
    if not flat:
        raise FullcycleError(f"{EVAL_METRICS} at {rev[:7]} holds no test metrics.")
    return flat


def next_version(latest: Any, head: str, bump: str) -> str:
    from gto.versions import SemVer

    if latest is None:
        return FIRST_VERSION
    if bump == "auto":
        old, new = read_tracked(LABELS, latest.commit_hexsha), read_tracked(LABELS, head)
        bump = "major" if old and new and json.loads(old) != json.loads(new) else "minor"
    return (
        SemVer(latest.version)
        .bump(bump_major=bump == "major", bump_minor=bump == "minor", bump_patch=bump == "patch")
        .version
    )


def cli_release(args: argparse.Namespace) -> int:
    """`fullcycle release [--stage STAGE] [--bump KIND] [--no-bento]`: register HEAD's model (a new
    version only when it changed), assign it the stage, build its Bento, push the new tags; any
    failure deletes the tags it created."""
    from gto.exceptions import GTOException

    root = repo_root()
    require_clean("release")
    cfg = settings()
    artifact, stage, base = cfg.artifact, args.stage or cfg.release_stage, cfg.base
    if current_branch() != base:
        raise FullcycleError(
            f"release runs on '{base}' (you are on {current_branch() or 'a detached HEAD'}): "
            f"merge the promotion PR, then `git checkout {base}` and release from there."
        )
    require_remote("origin")
    head = rev_parse("HEAD") or ""
    path = declared_artifact(artifact)
    md5 = model_hash(path, head)
    if md5 is None:
        raise FullcycleError(
            f"dvc.lock at HEAD records no output '{path}': the model was never trained on this "
            "commit. Run `dvc repro` (or merge a promotion PR) and commit dvc.lock."
        )

    latest = latest_version(root, artifact)
    before = set(git("tag", "--list").split())
    try:
        version = register(root, artifact, path, md5, latest, head, args.bump)
        assign_stage(root, artifact, stage, version)
        if not args.no_bento:
            build_bento(path, version)
        new = sorted(set(git("tag", "--list").split()) - before)
        if new:
            git("push", "--atomic", "origin", *[f"refs/tags/{t}" for t in new])
    except BaseException as exc:
        created = sorted(set(git("tag", "--list").split()) - before)
        if created:
            git("tag", "-d", *created, check=False)
        if isinstance(exc, GTOException):
            raise FullcycleError(f"GTO refused: {exc}. No tags were kept or pushed.") from None
        raise
    print(f"pushed tags to origin: {', '.join(new)}" if new else "nothing new to push")
    return 0


def latest_version(root: Path, artifact: str) -> Any:
    """GTO's latest registered version of `artifact` (None: nothing registered yet)."""
    from gto import api as gto
    from gto.exceptions import ArtifactNotFound

    try:
        return gto.find_latest_version(str(root), artifact)
    except ArtifactNotFound:  # nothing registered yet
        return None


def register(
    root: Path, artifact: str, path: str, md5: str, latest: Any, head: str, bump: str
) -> str:
    """The version of HEAD's model: `latest`'s when the model (`md5`, its hash in dvc.lock) is
    unchanged since, else the next one, registered with the test metrics."""
    from gto import api as gto

    if latest and model_hash(path, latest.commit_hexsha) == md5:
        version = latest.version
        print(f"the model is unchanged since {artifact}@{version} ({latest.commit_hexsha[:7]})")
        return version
    version = next_version(latest, head, bump)
    metrics = eval_metrics(head)
    gto.register(
        str(root),
        artifact,
        "HEAD",
        version=version,
        message=records.Release(artifact, version, metrics).message(),
    )
    print(f"registered {artifact}@{version}: " + (records.format_fields(metrics) or "no metrics"))
    return version


def assign_stage(root: Path, artifact: str, stage: str, version: str) -> None:
    """Assign `stage` to `artifact@version`, unless it already holds it."""
    from gto import api as gto

    current = gto.find_versions_in_stage(str(root), artifact, stage)
    current = current if isinstance(current, list) else [current] if current else []
    if any(v.version == version for v in current):
        print(f"{artifact}@{version} is already in stage '{stage}'")
        return
    gto.assign(
        str(root),
        artifact,
        stage,
        version=version,
        message=f"Assigning stage {stage} to artifact {artifact} version {version}",
    )
    print(f"assigned stage '{stage}' to {artifact}@{version}")


OPTIMIZED = paths.OPTIMIZED_DIR.as_posix()  # the optimize stage's output
PACKAGE_STAGE = "package"  # its outs (the exported bento) are what dvc.lock records, not a release


def build_bento(model_path: str, version: str) -> None:
    """Build the Bento with the package stage's own function, from HEAD's model, tagged with the
    release version: the outputs it reads are first checked out (or pulled) to match HEAD's
    dvc.lock, not whatever ran last. The release's bento (its version and git commit stamped in)
    stays in BentoML's store; the package stage's exported archive is put back as it was, so
    `dvc status` after a release says what it said before."""
    try:
        package = importlib.import_module("fullcycle.serve.package")
    except ImportError:
        print(
            "note: fullcycle.serve.package is not available in this install, so no Bento was "
            "built; build it later with `fullcycle package`."
        )
        return
    targets = [model_path, OPTIMIZED, EVAL_METRICS]  # the bento packs the optimised variant too
    remote = dvc_remote()
    dvc("pull", "-r", remote, *targets) if remote else dvc("checkout", *targets)
    outs = stage_outs(PACKAGE_STAGE)
    with left_as_is(outs), contextlib.redirect_stdout(io.StringIO()):  # its "exported to" is undone
        package.package_model(version=version)
    tag = f"{bento_name()}:{version}"
    kept = f"; {', '.join(outs)} left as dvc.lock records it" if outs else ""
    print(
        f"built bento {tag} (BentoML's store){kept}. Serve it with `bentoml serve {tag}`, "
        f"ship it with `bentoml export {tag} PATH`."
    )


def stage_outs(stage: str, rev: str = "HEAD") -> list[str]:
    """The outputs dvc.yaml at `rev` declares for `stage` ([] when it has no such stage)."""
    pipeline = yaml.safe_load(show_file(rev, "dvc.yaml") or "") or {}
    spec = (pipeline.get("stages") or {}).get(stage) or {}
    return [out if isinstance(out, str) else next(iter(out)) for out in spec.get("outs") or []]


def bento_name() -> str:
    """The bento's name, from bentofile.yaml (what `bentoml build` names it)."""
    try:
        text = Path("bentofile.yaml").read_text(encoding="utf-8")
    except OSError:
        return "bento"
    return str((yaml.safe_load(text) or {}).get("name") or "bento")


@contextlib.contextmanager
def left_as_is(paths: list[str]) -> Iterator[None]:
    """Run the block, then put each path back exactly as it was before it (moved aside and back:
    same bytes, same mtime, so DVC sees the output it recorded), and remove what the block wrote
    where there was nothing. Ctrl-C included."""
    aside: dict[Path, Path | None] = {}
    try:
        for path in map(Path, paths):
            keep = path.with_name(f".{path.name}.release-aside")
            aside[path] = keep if path.exists() else None
            if aside[path]:
                path.rename(keep)
        yield
    finally:
        for path, keep in aside.items():
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
            if keep is not None:
                keep.rename(path)
