"""The serve settings conf/ gives (conf/serve/default.yaml), for tests that change a few."""

from __future__ import annotations

from typing import Any

import yaml

from fullcycle.serve.settings import ServeSettings, from_mapping
from tests.conftest import REPO


def serve_values(**changes: Any) -> dict[str, Any]:
    """conf/serve/default.yaml's values with `changes` (what a bento's build arguments hold)."""
    return yaml.safe_load((REPO / "conf" / "serve" / "default.yaml").read_text()) | changes


def serve_settings(**changes: Any) -> ServeSettings:
    return from_mapping(serve_values(**changes), "conf/serve/default.yaml")
