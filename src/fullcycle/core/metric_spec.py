"""The one way a metric is named: `FILE:section.key` (a JSON metrics file and the dotted path of a
number inside it), or `section.key` in a default file. `fullcycle exp best --metric`, the promote
gate and `tune.metric` all read it here, as DVC's own `dvc metrics show` columns name them."""

from __future__ import annotations

import json
from typing import Any

from fullcycle.core.errors import FullcycleError


def split(spec: str, default_file: str | None = None) -> tuple[str, str]:
    """`FILE:section.key` -> (FILE, "section.key"); `section.key` -> (default_file, ...)."""
    path, _, key = spec.rpartition(":")
    if not key or not (path or default_file):
        raise FullcycleError(
            f"metric {spec!r}: write it as FILE:section.key, e.g. "
            "dvclive/metrics.json:best.val_f1_macro"
        )
    return path or str(default_file), key


def pick(tree: Any, key: str) -> float | None:
    """The number at the dotted `key` of a parsed metrics tree (None: absent or not a number)."""
    value = tree
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return None if isinstance(value, bool) or not isinstance(value, int | float) else float(value)


def pick_json(text: str | None, key: str) -> float | None:
    """`pick` from a metrics file's text (None: no text, or not JSON)."""
    try:
        return pick(json.loads(text), key) if text else None
    except ValueError:
        return None
