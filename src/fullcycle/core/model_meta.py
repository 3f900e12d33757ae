"""A model directory's `fullcycle.json` (labels, max length, windows, provenance), read without
torch or transformers: commands that only check a model is there (`fullcycle serve` before it
starts the server) stay quick. `fullcycle.core.classifier` writes it and re-exports these."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fullcycle.core.errors import FullcycleError

META_FILE = "fullcycle.json"


def read_meta(directory: str | Path) -> dict[str, Any]:
    path = Path(directory) / META_FILE
    if not path.is_file():
        raise FullcycleError(
            f"{directory} is not a fullcycle model (no {META_FILE}): run `fullcycle train` "
            "(or `dvc repro`) first, or `dvc pull` to fetch the trained model."
        )
    return json.loads(path.read_text(encoding="utf-8"))
