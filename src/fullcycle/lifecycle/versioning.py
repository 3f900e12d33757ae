"""One transaction for "version this file as a commit", shared by `fullcycle data add`,
`fullcycle label import` and `fullcycle traffic snapshot`.

1. Refuse when a file the commit would carry (the `.dvc` file, the folder's `.gitignore`, any
   `also` file such as conf/ or params.yaml) has uncommitted changes: they would be swept in.
2. Inside one undo scope (a failure or Ctrl-C puts every file back as it was, nothing staged):
   write the file, track it with DVC and push it to the default DVC remote when there is one
   (in-process, one way for all three commands), then commit the carried files with the
   message the caller builds from the file's DVC hash (a `records` trailer).
3. Nothing changed (the same bytes were already committed): no commit, and the caller says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from fullcycle.core.errors import FullcycleError
from fullcycle.core.provenance import tracked_md5
from fullcycle.lifecycle.gitutil import dirty_files, git, undone_on_failure


@dataclass(frozen=True)
class Recorded:
    md5: str  # the file's DVC hash, as its .dvc file records it
    remote: str | None  # the DVC remote it was pushed to (None: no default remote)
    sha: str | None  # the commit (None: nothing changed, or not asked to commit)

    @property
    def pushed(self) -> str:
        if self.remote:
            return f"pushed to DVC remote '{self.remote}'"
        return (
            "no DVC remote configured, so not pushed (to share the data: `dvc remote add -d "
            "store <path or url>`, then `dvc push`)"
        )


def track(path: Path) -> str | None:
    """`dvc add` the file and push it to the default DVC remote when there is one; returns the
    remote's name. In-process (one DVC import instead of several `dvc` processes: seconds saved)."""
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    dvc_log = logging.getLogger("dvc")
    level = dvc_log.level
    dvc_log.setLevel(logging.WARNING)  # its "to track the changes with git, run" hint: we do
    doing, remote = "track", None
    try:
        with Repo(".") as repo:
            repo.scm_context.quiet = True
            repo.add(str(path))
            remote = repo.config["core"].get("remote")
            if remote:
                doing = f"push to the DVC remote '{remote}'"
                repo.push(targets=[f"{path}.dvc"], remote=remote)
    except (DvcException, OSError) as exc:  # a remote that cannot be written: OSError
        raise FullcycleError(
            f"DVC could not {doing} {path}: {exc}. Nothing was written or committed: fix it "
            "(`dvc remote list`, `dvc doctor`) and run the command again."
        ) from None
    finally:
        dvc_log.setLevel(level)
    return remote


def version_file(
    path: Path,
    write: Callable[[], None],
    message: Callable[[str], str],
    *,
    what: str,
    also: Sequence[Path] = (),
    commit: bool = True,
) -> Recorded:
    """Write `path` (`write()`), track and push it with DVC, and commit it with `message(md5)`,
    all or nothing. `what` names the command in the refusal ("add data", "import labels")."""
    dvc_file, ignore = Path(f"{path}.dvc"), path.parent / ".gitignore"
    carried = [dvc_file, ignore, *also]
    dirty = sorted(set(dirty_files()) & {str(p) for p in carried})
    if dirty and commit:
        raise FullcycleError(
            f"cannot {what}: {', '.join(dirty)} has uncommitted changes that this commit would "
            "sweep in. Commit or revert them first."
        )
    with undone_on_failure(path, *carried):
        write()
        remote = track(path)
        md5 = tracked_md5(path)
        if md5 is None:
            raise FullcycleError(f"DVC tracked {path} but {dvc_file} records no hash.")
        if not commit:
            return Recorded(md5, remote, None)
        present = [str(p) for p in carried if p.exists()]
        git("add", "--", *present)
        if not git("diff", "--cached", "--name-only", "--", *present):
            return Recorded(md5, remote, None)
        git("commit", "-q", "-m", message(md5), "--", *present)
    return Recorded(md5, remote, git("rev-parse", "--short", "HEAD"))
