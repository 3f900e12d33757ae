"""Where a model came from, in the terms DVC and git use, so any DVC command can resolve it.

- `dvc_md5(path)`: DVC's own hash of a file or directory (`<md5>.dir` for a directory), computed
  with DVC's hashing library: what `dvc.lock` or a `.dvc` file records for the same bytes.
- `locked_md5(path)`: the hash `dvc.lock` records for a stage output (e.g. data/processed).
- `raw_data(data)`: the raw file a `file` data source reads and its hash (from its `.dvc` file when
  `fullcycle data add` / `dvc add` tracks it).
- `git_commit()`: the checked-out commit.

Stage outputs hold only what their inputs determine (`dvc_md5` of a dependency, `raw_data` of a
tracked file under a dependency); the commit and `dvc.lock`'s view are stamped when a model is
packaged or released (fullcycle.serve.model), never inside a cached output.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Any

import yaml

LOCK_FILE = "dvc.lock"


def dvc_md5(path: str | Path) -> str:
    """DVC's md5 of `path` (a file, or a directory as `<md5>.dir`), as dvc.lock would record it."""
    from dvc_data.hashfile.build import build
    from dvc_data.hashfile.db import HashFileDB
    from dvc_objects.fs.local import LocalFileSystem
    from dvc_objects.fs.memory import MemoryFileSystem

    odb = HashFileDB(MemoryFileSystem(), "/fullcycle-hash")  # dry run: nothing is stored
    _, _, obj = build(odb, str(path), LocalFileSystem(), "md5", dry_run=True)
    return str(obj.hash_info.value)


def locked_outs(lock_text: str | None) -> dict[str, str]:
    """{output path: md5} for every stage output a dvc.lock text records."""
    try:
        lock = yaml.safe_load(lock_text or "") or {}
    except yaml.YAMLError:
        return {}
    found = {}
    for stage in (lock.get("stages") or {}).values() if isinstance(lock, dict) else []:
        for out in (stage.get("outs") or []) if isinstance(stage, dict) else []:
            if isinstance(out, dict) and out.get("path") and (out.get("md5") or out.get("hash")):
                found[str(out["path"]).rstrip("/")] = str(out.get("md5") or out.get("hash"))
    return found


def locked_md5(path: str | Path, project: str | Path = ".") -> str | None:
    """The hash the project's dvc.lock records for output `path` (None: not recorded)."""
    lock = Path(project) / LOCK_FILE
    text = lock.read_text(encoding="utf-8") if lock.is_file() else None
    return locked_outs(text).get(str(path).rstrip("/"))


def tracked_md5(path: str | Path) -> str | None:
    """The md5 that `<path>.dvc` records (None when no .dvc file tracks `path`)."""
    dvc_file = Path(f"{path}.dvc")
    if not dvc_file.is_file():
        return None
    try:
        outs = (yaml.safe_load(dvc_file.read_text(encoding="utf-8")) or {}).get("outs") or []
    except (OSError, yaml.YAMLError, AttributeError):
        return None
    first = outs[0] if outs and isinstance(outs[0], dict) else {}
    return first.get("md5") or first.get("hash")


def raw_data(data: Any, project: str | Path = ".") -> dict[str, Any] | None:
    """The raw file behind a `file` data source: {"path", "md5", "dvc_file"}, md5 from its `.dvc`
    file (what `fullcycle data add` committed). None for the built-in corpus."""
    if data is None or data.get("source") != "file" or not data.get("path"):
        return None
    path = Path(str(data.get("path")))
    full = path if path.is_absolute() else Path(project) / path
    md5 = tracked_md5(full)
    return {"path": str(path), "md5": md5, "dvc_file": f"{path}.dvc" if md5 else None}


def git_commit(project: str | Path = ".") -> str | None:
    """The commit checked out in `project` (None outside a git repository)."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=project, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return (done.stdout.strip() or None) if done.returncode == 0 else None


def content_version(directory: str | Path) -> str:
    """A version from the model's bytes: the same model always gets the same version, so
    packaging twice reuses the stored model and /metadata names what is really loaded."""
    directory = Path(directory)
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(path.relative_to(directory).as_posix().encode() + b"\0")
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()[:16]
