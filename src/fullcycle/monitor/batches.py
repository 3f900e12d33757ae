"""The versioned traffic batches (light: no torch), shared by the monitor and `label export`."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from fullcycle.core.errors import FullcycleError

BATCH_GLOB = "*.parquet"  # data/production/YYYY-MM-DD_HHMM.parquet, in time order by name


def traffic_batches(monitor: DictConfig) -> list[Path]:
    """The versioned traffic batches the monitor judges: all, or the newest `monitor.window`.
    A batch whose .dvc file is committed but whose data is not here is an error, not a silent
    fallback to the held-out split."""
    folder = Path(monitor.production_dir)
    tracked = sorted(p.with_suffix("") for p in folder.glob(f"{BATCH_GLOB}.dvc"))
    missing = [p for p in tracked if not p.is_file()]
    if missing:
        raise FullcycleError(
            f"{len(missing)} traffic batch(es) are tracked but not here (e.g. {missing[0]}): "
            f"fetch them with `dvc pull {folder}`."
        )
    batches = sorted(set(folder.glob(BATCH_GLOB)) | set(tracked))
    window = monitor.get("window")
    if window is None:
        return batches
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise FullcycleError(
            f"params.yaml: monitor.window = {window!r}: must be a whole number of at least 1, or "
            "null for every batch. Fix conf/monitor/default.yaml (then `fullcycle params`)."
        )
    return batches[-window:]
