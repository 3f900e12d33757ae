"""Which model the service serves, and what it says about itself.

Decision: a packaged bento serves the exact model version recorded in it (a BentoML model-store
model, saved by `fullcycle package`); serving from source (`bentoml serve` / `fullcycle serve` at the
project root) reads the trained directory, models/classifier by default (FULLCYCLE_MODEL_DIR).
Both paths produce the same model card, so /metadata answers alike whichever way the model came.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import yaml

from fullcycle import classifier
from fullcycle.errors import FullcycleError

METRICS_FILE = Path("reports/eval/metrics.json")
DATA_DIR = "data/processed"


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


def _git_commit(project: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=project, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (done.stdout.strip() or None) if done.returncode == 0 else None


def _data_hash(project: Path) -> str | None:
    """The DVC hash of data/processed from dvc.lock: the data the pipeline trained on."""
    lock = project / "dvc.lock"
    try:
        stages = (yaml.safe_load(lock.read_text(encoding="utf-8")) or {}).get("stages", {})
    except (OSError, yaml.YAMLError):
        return None
    for stage in stages.values():
        for out in stage.get("outs", []) if isinstance(stage, dict) else []:
            if isinstance(out, dict) and out.get("path") == DATA_DIR:
                return out.get("md5")
    return None


def _read_metrics(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise FullcycleError(
            f"{path} is not valid JSON ({exc}): rerun `fullcycle evaluate` (or `dvc repro`)."
        ) from None
    if not isinstance(metrics, dict):
        raise FullcycleError(f"{path} must hold a JSON object like {{'test': {{...}}}}.")
    return metrics


def _without_none(value: Any) -> Any:
    """BentoML metadata refuses None: drop empty entries (readers treat missing as unknown)."""
    if isinstance(value, dict):
        return {str(k): _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_without_none(v) for v in value if v is not None]
    return value


def model_card(
    model_dir: str | Path, project: str | Path = ".", metrics_path: str | Path | None = None
) -> dict[str, Any]:
    """What /metadata shows and what `fullcycle package` stores with the model: labels, test
    metrics, params, data hash and git commit (taken from the model's own fullcycle.json where
    the train stage recorded them, else from the project as it is now)."""
    model_dir, project = Path(model_dir), Path(project)
    meta = classifier.read_meta(model_dir)
    trained = {k: v for k, v in meta.items() if k not in ("labels", "max_length")}
    metrics_file = Path(metrics_path) if metrics_path else project / METRICS_FILE
    data = trained.get("data") if isinstance(trained.get("data"), dict) else {}  # train's record
    card = {
        "version": content_version(model_dir),
        "labels": list(meta["labels"]),
        "max_length": int(meta["max_length"]),
        "metrics": _read_metrics(metrics_file),
        "params": trained.pop("params", None),
        "data_hash": trained.pop("data_hash", None) or data.get("md5") or _data_hash(project),
        "git_commit": trained.pop("git_commit", None) or _git_commit(project),
        "trained": trained or None,
    }
    return _without_none(json.loads(json.dumps(card, default=str)))
