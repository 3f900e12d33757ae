"""The service's settings: the `serve` section of params.yaml (conf/serve/default.yaml), checked
against its schema (fullcycle.core.schema_release.Serve, which they are an instance of).

The base is a packaged bento's build arguments (`fullcycle package` freezes the serve section into
the bento, so a bento serves with the limits it was packaged with) or, serving from source,
params.yaml's `serve` section (FULLCYCLE_PARAMS names another params file). Environment variables
then override single keys, for what an operator changes per deployment without a rebuild:
FULLCYCLE_MODEL_DIR, FULLCYCLE_BATCHING, FULLCYCLE_CAPTURE, FULLCYCLE_CAPTURE_PATH,
FULLCYCLE_SERVE_RUNTIME (onnx | torch: see fullcycle.serve.runtime), FULLCYCLE_OPTIMIZED_DIR.
The merged values are checked against the same schema, an error naming the variable. The API key
is only ever read from the environment (API_KEY_ENV), never from a file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fullcycle.core.schema import RUNTIMES
from fullcycle.core.schema_release import Serve

API_KEY_ENV = "FULLCYCLE_API_KEY"
PARAMS_ENV = "FULLCYCLE_PARAMS"
ENV_OVERRIDES = {  # environment variable -> settings key
    "FULLCYCLE_MODEL_DIR": "model_dir",
    "FULLCYCLE_BATCHING": "batching",
    "FULLCYCLE_CAPTURE": "capture",
    "FULLCYCLE_CAPTURE_PATH": "capture_path",
    "FULLCYCLE_SERVE_RUNTIME": "runtime",
    "FULLCYCLE_OPTIMIZED_DIR": "optimized_dir",
}
__all__ = ["RUNTIMES", "ServeSettings", "from_mapping", "from_params", "load"]
ServeSettings = Serve  # every key of conf/serve/default.yaml; comments live there


def from_mapping(values: Mapping[str, Any], where: str) -> ServeSettings:
    """`values` (a serve section) checked against the schema: one error naming every bad key."""
    from fullcycle.core.schema_check import check_group

    return check_group(Serve, dict(values), where, prefix="serve")


def from_params(path: str | os.PathLike[str] | None = None) -> tuple[dict[str, Any], str]:
    """The `serve` section of params.yaml (checked as it is loaded), and where it was read from."""
    from omegaconf import OmegaConf

    from fullcycle.core import params

    path = Path(path or os.environ.get(PARAMS_ENV) or params.PARAMS_FILE)
    section = params.section(params.load(path), "serve", where=str(path))
    return OmegaConf.to_container(section), str(path)  # type: ignore[return-value]


def _from_env(key: str, text: str) -> Any:
    """An environment variable's text as the value of `key`: true/false, 1/0, yes/no, on/off
    for a switch (pydantic's words for a bool); the text itself otherwise."""
    if Serve.model_fields[key].annotation is bool:
        from pydantic import TypeAdapter, ValidationError

        try:
            return TypeAdapter(bool).validate_python(text.strip())
        except ValidationError:
            return text  # the schema names the variable and what it takes
    return text


def load(
    bento_serve: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
) -> ServeSettings:
    """Resolve the settings (see the module docstring for the order)."""
    env = os.environ if env is None else env
    if bento_serve is not None:
        values, where = dict(bento_serve), "the bento's build arguments"
    else:
        values, where = from_params()
    settings = from_mapping(values, where)
    for name, key in ENV_OVERRIDES.items():
        if env.get(name, "") != "":
            values = settings.to_dict() | {key: _from_env(key, env[name])}
            settings = from_mapping(values, f"environment variable {name}")
    return settings
