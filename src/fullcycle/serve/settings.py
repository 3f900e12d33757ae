"""The service's settings: the `serve` section of params.yaml (conf/serve/default.yaml), checked.

The base is a packaged bento's build arguments (`fullcycle package` freezes the serve section into
the bento, so a bento serves with the limits it was packaged with) or, serving from source,
params.yaml's `serve` section (FULLCYCLE_PARAMS names another params file). Environment variables
then override single keys, for what an operator changes per deployment without a rebuild:
FULLCYCLE_MODEL_DIR, FULLCYCLE_BATCHING, FULLCYCLE_CAPTURE, FULLCYCLE_CAPTURE_PATH,
FULLCYCLE_SERVE_RUNTIME (onnx | torch: see fullcycle.serve.runtime), FULLCYCLE_OPTIMIZED_DIR.
The API key is only ever read from the environment (API_KEY_ENV), never from a file.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fullcycle.core.errors import FullcycleError

API_KEY_ENV = "FULLCYCLE_API_KEY"
BYTES_PER_CHAR = 6  # a character's longest usual JSON form: \\uXXXX
PARAMS_ENV = "FULLCYCLE_PARAMS"
ENV_OVERRIDES = {  # environment variable -> settings key
    "FULLCYCLE_MODEL_DIR": "model_dir",
    "FULLCYCLE_BATCHING": "batching",
    "FULLCYCLE_CAPTURE": "capture",
    "FULLCYCLE_CAPTURE_PATH": "capture_path",
    "FULLCYCLE_SERVE_RUNTIME": "runtime",
    "FULLCYCLE_OPTIMIZED_DIR": "optimized_dir",
}
RUNTIMES = ("onnx", "torch")
RENAMED = {  # keys of older versions -> what replaces them
    "max_latency_ms": "is gone with BentoML's adaptive batcher: a queued request now waits at most "
    "serve.max_wait_ms for companions, and a full queue (serve.max_queue texts) is a 503",
}


@dataclass(frozen=True)
class ServeSettings:
    """Mirrors conf/serve/default.yaml (a test keeps the two equal); comments live there."""

    runtime: str = "onnx"
    model_dir: str = "models/classifier"
    optimized_dir: str = "models/optimized"
    model_name: str = "fullcycle-classifier"
    bento_path: str = "bentos/classifier.bento"
    host: str = "127.0.0.1"
    port: int = 3000
    max_texts: int = 64
    max_chars: int = 50000
    batching: bool = True
    max_batch_size: int = 64
    max_wait_ms: int = 10
    max_queue: int = 1024
    timeout_s: int = 60
    max_concurrency: int = 256
    max_inflight_mb: int = 256
    capture: bool = False
    capture_path: str = "data/captured"
    capture_sink: str = "file"
    capture_max_bytes: int = 64 << 20
    capture_rotate_s: int = 86400
    capture_keep_bytes: int = 1 << 30
    explain: bool = True
    explain_steps: int = 20
    explain_max_steps: int = 64
    explain_warn_delta: float = 0.1

    def __post_init__(self) -> None:
        if self.runtime not in RUNTIMES:
            raise FullcycleError(
                f"serve.runtime (or FULLCYCLE_SERVE_RUNTIME) is {self.runtime!r}: use one of "
                f"{', '.join(RUNTIMES)}."
            )

    @property
    def max_body_bytes(self) -> int:
        """The largest request body worth reading, derived from the limits: max_texts texts of
        max_chars characters, each character JSON-escaped (\\uXXXX, 6 bytes), plus quotes and
        commas per text and room for the envelope. Anything longer is a 413 before it is read."""
        return self.max_texts * (self.max_chars * BYTES_PER_CHAR + 16) + 4096

    @property
    def max_inflight_bytes(self) -> int:
        return self.max_inflight_mb * 2**20

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], where: str) -> ServeSettings:
        fields = {f.name: f for f in dataclasses.fields(cls)}
        renamed = sorted(set(values) & set(RENAMED))
        if renamed:
            raise FullcycleError(
                f"{where}: "
                + "; ".join(f"serve.{key} {RENAMED[key]}" for key in renamed)
                + " (see conf/serve/default.yaml)."
            )
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise FullcycleError(
                f"{where}: unknown serve setting(s) {', '.join(unknown)}; "
                f"known: {', '.join(fields)} (see conf/serve/default.yaml)."
            )
        checked = {k: _check(k, v, type(getattr(cls, k)), where) for k, v in values.items()}
        settings = cls(**checked)
        if settings.max_inflight_bytes < settings.max_body_bytes:
            raise FullcycleError(
                f"{where}: serve.max_inflight_mb = {settings.max_inflight_mb} cannot hold one "
                f"request of the largest size the limits allow ({settings.max_body_bytes / 2**20:.1f} "
                "MB from serve.max_texts x serve.max_chars): raise it or lower those limits."
            )
        return settings

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _check(key: str, value: Any, kind: type, where: str) -> Any:
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "on"):
            return True
        if isinstance(value, str) and value.strip().lower() in ("0", "false", "no", "off", ""):
            return False
    elif kind is int:
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = 0
        if number > 0 and not isinstance(value, bool) and str(number) == str(value).strip():
            return number
        raise FullcycleError(f"{where}: serve.{key} must be a positive integer, not {value!r}.")
    elif kind is float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = 0.0
        if number > 0 and math.isfinite(number) and not isinstance(value, bool):
            return number
        raise FullcycleError(f"{where}: serve.{key} must be a positive number, not {value!r}.")
    elif isinstance(value, str) and value.strip():
        return value
    raise FullcycleError(f"{where}: serve.{key} must be a {kind.__name__}, not {value!r}.")


def from_params(path: str | os.PathLike[str] | None = None) -> tuple[dict[str, Any], str]:
    """The raw `serve` section of params.yaml, and where it was read from."""
    from fullcycle.core import params

    path = Path(path or os.environ.get(PARAMS_ENV) or params.PARAMS_FILE)
    section = params.section(params.load(path), "serve")
    from omegaconf import OmegaConf

    return OmegaConf.to_container(section), str(path)  # type: ignore[return-value]


def load(
    bento_serve: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
) -> ServeSettings:
    """Resolve the settings (see the module docstring for the order)."""
    env = os.environ if env is None else env
    if bento_serve is not None:
        values, where = dict(bento_serve), "the bento's build arguments"
    else:
        values, where = from_params()
    settings = ServeSettings.from_mapping(values, where)
    changes = {
        key: _check(
            key, env[name], type(getattr(ServeSettings, key)), f"environment variable {name}"
        )
        for name, key in ENV_OVERRIDES.items()
        if env.get(name, "") != ""
    }
    return dataclasses.replace(settings, **changes)
