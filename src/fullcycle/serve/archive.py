"""A bento exported as the same bytes whenever it holds the same model, code and settings.

BentoML's own export (`bentoml.bentos.export_bento`) stamps the build time into bento.yaml and each
model.yaml, each model.yaml records the interpreter's full version (3.11.7; bento.yaml says 3.11),
and the tar archive records file times, owners and directory order. The package stage's output is
a DVC output, so those would give a new hash on every run, or on every Python patch release, and a
fresh clone's `make repro` would end with a modified dvc.lock. `export()` writes the same format (an
xz tar of the bento's directory, which `bentoml import` reads) with those fields fixed: the times
to one date, the Python version to major.minor, as bento.yaml has it.
"""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path
from typing import Any

# What the creation times say in the exported archive: a fixed date (the zip epoch). The bento's
# real history is in git and in the release tags, which carry the commit and the date.
FIXED_TIME = "1980-01-01T00:00:00+00:00"
FIXED_MTIME = 315532800  # the same instant, as a tar mtime
STAMPED = ("bento.yaml", "model.yaml")


def stable_yaml(text: str) -> str:
    """The YAML `text` with every `creation_time` set to FIXED_TIME and every `python_version`
    cut to major.minor ("3.11.7" -> "3.11"), all else kept as written."""
    from ruamel.yaml import YAML

    yaml = YAML()  # round-trip: order, quoting and comments kept
    yaml.width = 4096
    doc = yaml.load(text)

    def fix(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "creation_time":
                    node[key] = FIXED_TIME
                elif key == "python_version" and isinstance(value, str):
                    node[key] = ".".join(value.split(".")[:2])
                else:
                    fix(value)
        elif isinstance(node, list):
            for item in node:
                fix(item)

    fix(doc)
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()


def export_bento(bento: Any, dest: str | Path) -> None:
    """`bentoml.bentos.export_bento`, reproducibly: the bento's models are resolved into its
    directory for the export (as BentoML's own `Bento.export` does), then removed again."""
    from _bentoml_sdk.models import BentoModel  # what Bento.export uses to place each model

    models_dir = Path(bento.path) / "models"
    models_dir.mkdir(parents=True, exist_ok=True)
    try:
        for model in bento.info.all_models:
            if model.registry == "bentoml":
                BentoModel(model.tag).resolve(models_dir)
        export(bento.path, dest)
    finally:
        shutil.rmtree(models_dir, ignore_errors=True)


def export(bento_dir: str | Path, dest: str | Path) -> None:
    """Write the bento at `bento_dir` (a store entry's path) to `dest` as a reproducible .bento."""
    root = Path(bento_dir)
    with tarfile.open(dest, "w:xz", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(_info("./", directory=True))
        for path in sorted(root.rglob("*")):
            name = "./" + path.relative_to(root).as_posix()
            if path.is_dir():
                tar.addfile(_info(name, directory=True))
            elif path.name in STAMPED:
                data = stable_yaml(path.read_text(encoding="utf-8")).encode("utf-8")
                tar.addfile(_info(name, size=len(data)), io.BytesIO(data))
            else:
                executable = bool(path.stat().st_mode & 0o100)
                with path.open("rb") as handle:
                    info = _info(name, size=path.stat().st_size, executable=executable)
                    tar.addfile(info, handle)


def _info(name: str, size: int = 0, directory: bool = False, executable: bool = False):
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE if directory else tarfile.REGTYPE
    info.mode = 0o755 if directory or executable else 0o644
    info.size = 0 if directory else size
    info.mtime = FIXED_MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info
