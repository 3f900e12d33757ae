"""Which model the service serves, and what it says about itself.

Decision: a packaged bento serves the exact model version recorded in it (a BentoML model-store
model, saved by `fullcycle package`); serving from source (`bentoml serve` / `fullcycle serve` at the
project root) reads the trained directory, models/classifier by default (FULLCYCLE_MODEL_DIR).
Both paths produce the same model card, so /metadata answers alike whichever way the model came.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fullcycle.core import paths, provenance
from fullcycle.core.errors import FullcycleError
from fullcycle.core.model_meta import read_meta  # not classifier: no torch to read a card
from fullcycle.core.provenance import content_version

METRICS_FILE = paths.EVAL_METRICS
DATA_DIR = "data/processed"


def _data_hash(model_record: dict[str, Any], project: Path) -> str | None:
    """DVC's hash of the processed data the model was trained on: the train stage's record
    (computed with DVC's hashing, `<md5>.dir`), else what dvc.lock records for data/processed."""
    recorded = str(model_record.get("md5") or "")
    if recorded.endswith(".dir"):  # older models recorded a hash of fullcycle's own: not DVC's
        return recorded
    return provenance.locked_md5(model_record.get("processed_dir") or DATA_DIR, project)


def _raw_data(project: Path) -> dict[str, Any] | None:
    """The raw file behind the project's `file` data source and the hash its .dvc file records
    (None where there is no params.yaml, e.g. in a bento, or no data section)."""
    from omegaconf import OmegaConf

    from fullcycle.core import params

    params_file = project / params.PARAMS_FILE
    if not params_file.is_file():
        return None
    cfg = params.load_text(params_file.read_text(encoding="utf-8"), str(params_file), ("data",))
    data = OmegaConf.to_container(cfg["data"]) if "data" in cfg else None
    return provenance.raw_data(data, project)


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
    metrics, params, and provenance stamped now (a model's own files hold no commit, so that the
    same inputs train the same bytes): DVC's hash of the processed data (as in dvc.lock), the raw
    data's .dvc hash for a `file` source, and the git commit checked out."""
    model_dir, project = Path(model_dir), Path(project)
    meta = read_meta(model_dir)
    # a commit recorded by older models is not trusted: it is stamped now, where it is true
    shown = ("labels", "max_length", "windows", "git_commit")
    trained = {k: v for k, v in meta.items() if k not in shown}
    metrics_file = Path(metrics_path) if metrics_path else project / METRICS_FILE
    data = trained.get("data") if isinstance(trained.get("data"), dict) else {}  # train's record
    card = {
        "version": content_version(model_dir),
        "labels": list(meta["labels"]),
        "max_length": int(meta["max_length"]),
        "windows": int(meta.get("windows", 1)),  # windows of max_length tokens read per text
        "metrics": _read_metrics(metrics_file),
        "params": trained.pop("params", None),
        "data_hash": _data_hash(data, project),
        "raw_data": _raw_data(project),
        "git_commit": provenance.git_commit(project),
        "trained": trained or None,
    }
    return _without_none(json.loads(json.dumps(card, default=str)))
