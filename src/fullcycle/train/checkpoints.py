"""Resumable training: where an interrupted run's checkpoints live and how a rerun finds them.

DVC deletes a stage's outputs before running it, so checkpoints cannot be outputs. They live in
.fullcycle/checkpoints/<key>/ (gitignored), where the key hashes everything the run depends on
(seed, model, trainer and train params, DVC's hash of the processed data, the training code): a rerun with the
same key continues from `last.ckpt`; a changed config or data starts fresh. A successful run deletes
the directory.

The DVCLive directory is a stage output too, so DVC deletes it as well: each checkpoint carries a
copy of it (`LiveSnapshot`), restored before DVCLive resumes, so the curves stay whole and hold no
point twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.utilities import rank_zero_only
from omegaconf import DictConfig, OmegaConf

import fullcycle

log = logging.getLogger(__name__)

ROOT = Path(".fullcycle/checkpoints")
LAST = "last.ckpt"
SNAPSHOT_KEY = "fullcycle_dvclive"


def files_md5(paths: list[Path], root: Path) -> str:
    digest = hashlib.md5()
    for path in sorted(paths):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.md5(path.read_bytes()).digest())
    return digest.hexdigest()


def code_md5() -> str:
    """The training code's hash: a checkpoint written by other code is not resumed."""
    package = Path(fullcycle.__file__).parent
    core = [package / "core" / f"{name}.py" for name in TRAINING_CORE]
    return files_md5([*sorted((package / "train").glob("*.py")), *core], package)


# The core modules training runs (train's deps in dvc.yaml): a change to any of them is other code.
TRAINING_CORE = (
    "finetune",
    "datamodule",
    "windows",
    "classifier",
    "model_meta",
    "splits",
    "evidence",
)


def run_key(cfg: DictConfig, data_hash: str) -> str:
    sections = {
        k: OmegaConf.to_container(cfg[k]) if isinstance(cfg[k], DictConfig) else cfg[k]
        for k in ("seed", "model", "trainer", "train")
        if k in cfg
    }
    blob = json.dumps({"params": sections, "data": data_hash, "code": code_md5()}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def run_dir(cfg: DictConfig, data_hash: str) -> Path:
    return (ROOT / run_key(cfg, data_hash)).resolve()


@dataclass(frozen=True)
class Resume:
    path: Path  # the interrupted run's last checkpoint
    epoch: int  # the first epoch still to train


def resume(directory: Path, live_dir: Path) -> Resume | None:
    """The interrupted run with this key, if any: its DVCLive files are put back in `live_dir` as
    they were when its last checkpoint was written. None (start fresh) when there is none."""
    last = directory / LAST
    if not last.is_file():
        return None
    try:  # mmap: reads the small parts, not the weights
        state = torch.load(last, map_location="cpu", mmap=True, weights_only=False)  # our own file
        epoch, snapshot = int(state["epoch"]) + 1, dict(state.get(SNAPSHOT_KEY, {}))
    except Exception as exc:  # a checkpoint cut short by a kill: start over rather than crash
        log.warning("cannot read %s (%s): starting over", last, exc)
        shutil.rmtree(directory, ignore_errors=True)
        return None
    if rank_zero_only.rank != 0:  # under DDP only the first process writes DVCLive files
        return Resume(last, epoch)
    shutil.rmtree(live_dir, ignore_errors=True)
    for name, text in snapshot.items():
        path = live_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return Resume(last, epoch)


def clean() -> None:
    """After a successful run nothing is left to resume (and checkpoints are large)."""
    shutil.rmtree(ROOT, ignore_errors=True)
    if ROOT.parent.is_dir() and not any(ROOT.parent.iterdir()):
        ROOT.parent.rmdir()


class LiveSnapshot(L.Callback):
    """Stores the DVCLive directory's text files inside every checkpoint."""

    def __init__(self, live_dir: Path) -> None:
        self.live_dir = Path(live_dir)

    def on_save_checkpoint(
        self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        files = (
            [p for p in self.live_dir.rglob("*") if p.is_file()] if self.live_dir.is_dir() else []
        )
        checkpoint[SNAPSHOT_KEY] = {
            p.relative_to(self.live_dir).as_posix(): p.read_text(encoding="utf-8") for p in files
        }
