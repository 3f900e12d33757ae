"""The search space: conf/tune/<name>.yaml read into Optuna distributions, checked key by key.

Each entry of `space:` is a params.yaml key (what `dvc exp run -S` takes) and how to draw it:
  train.lr:         {type: float, low: 1.0e-5, high: 3.0e-4, log: true, choices: [5.0e-5, 1.0e-4]}
  trainer.max_epochs: {type: int, low: 2, high: 4}
  train.batch_size: {type: categorical, choices: [16, 32]}
TPE and random draw from the ranges; grid tries every combination of the listed `choices` (an int
entry without choices gives every value from low to high by `step`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from fullcycle.core.errors import FullcycleError

CONF_DIR = Path("conf/tune")
TYPES = ("float", "int", "categorical")
SAMPLERS = ("tpe", "random", "grid")
GRID_LIMIT = 10_000


@dataclass(frozen=True)
class Param:
    key: str
    distribution: Any  # an optuna.distributions.BaseDistribution
    choices: tuple[Any, ...]  # what grid tries


def config_path(name: str) -> Path:
    """`--space NAME` is conf/tune/NAME.yaml; a path to a YAML file works too."""
    path = Path(name)
    if path.suffix in (".yaml", ".yml"):
        return path
    return CONF_DIR / f"{name}.yaml"


def load_config(name: str = "default", flags: dict[str, Any] | None = None) -> dict[str, Any]:
    """conf/tune/<name>.yaml (or a YAML file), with the command-line `flags` on top, checked
    against its schema (fullcycle.core.schema_release.Tune): one error naming every bad key."""
    from fullcycle.core.schema_check import check_group
    from fullcycle.core.schema_release import Tune

    path = config_path(name)
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in CONF_DIR.glob("*.yaml"))) or "none"
        raise FullcycleError(f"{path} not found (search spaces in {CONF_DIR}/: {known}).")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise FullcycleError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("space"), dict) or not data["space"]:
        raise FullcycleError(f"{path}: needs a `space:` mapping of params keys to ranges.")
    flags = {k: v for k, v in (flags or {}).items() if v is not None}
    where = str(path) + "".join(f" --{k} {v}" for k, v in flags.items())
    config = check_group(Tune, data | flags, where).model_dump()
    return config | {"path": str(path)}


def _bad(source: str, key: str, why: str) -> FullcycleError:
    return FullcycleError(f"{source}: search space entry '{key}': {why}")


def _number(source: str, key: str, entry: dict, name: str, kind: type) -> float | int:
    value = entry.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(source, key, f"`{name}` must be a number (got {value!r})")
    if kind is int and value != int(value):
        raise _bad(source, key, f"`{name}` must be a whole number for type int (got {value!r})")
    return kind(value)


def parse_entry(key: str, entry: Any, source: str = "search space") -> Param:
    """One entry, checked: every mistake names the key and says what is wrong."""
    import optuna.distributions as dist

    if not isinstance(entry, dict):
        raise _bad(source, key, f"must be a mapping with a `type` (got {entry!r})")
    kind = entry.get("type")
    if kind not in TYPES:
        raise _bad(source, key, f"`type` must be one of {', '.join(TYPES)} (got {kind!r})")
    allowed = {"type", "choices"} | (
        {"low", "high", "log", "step"} if kind != "categorical" else set()
    )
    extra = sorted(set(entry) - allowed)
    if extra:
        raise _bad(source, key, f"unknown field(s) {', '.join(extra)} for type {kind}")
    choices = entry.get("choices")
    if choices is not None and (not isinstance(choices, list) or not choices):
        raise _bad(source, key, f"`choices` must be a non-empty list (got {choices!r})")
    if kind == "categorical":
        if choices is None:
            raise _bad(source, key, "type categorical needs `choices: [...]`")
        if len(set(map(repr, choices))) != len(choices):
            raise _bad(source, key, "`choices` lists a value twice")
        return Param(key, dist.CategoricalDistribution(choices), tuple(choices))

    number = int if kind == "int" else float
    low, high = (_number(source, key, entry, n, number) for n in ("low", "high"))
    if low >= high:
        raise _bad(source, key, f"`low` ({low}) must be below `high` ({high})")
    log, step = bool(entry.get("log", False)), entry.get("step")
    if log and low <= 0:
        raise _bad(source, key, f"`log: true` needs `low` > 0 (got {low})")
    if step is not None:
        step = _number(source, key, entry, "step", number)
        if step <= 0 or log:
            raise _bad(source, key, "`step` must be > 0 and cannot be combined with `log: true`")
    try:
        if kind == "int":
            distribution = dist.IntDistribution(low, high, log=log, step=int(step or 1))
        else:
            distribution = dist.FloatDistribution(low, high, log=log, step=step)
    except ValueError as exc:
        raise _bad(source, key, str(exc)) from None
    if choices is None and kind == "int" and (high - low) // (step or 1) < 100:
        choices = list(range(low, high + 1, int(step or 1)))
    for value in choices or []:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            raise _bad(source, key, f"choice {value!r} is not a number in [{low}, {high}]")
    return Param(key, distribution, tuple(number(v) for v in choices or ()))


def parse(space: dict[str, Any], source: str = "search space") -> list[Param]:
    if not space:
        raise FullcycleError(f"{source}: the search space is empty.")
    params = []
    for key, entry in space.items():
        if not isinstance(key, str) or not key or key.startswith(("-", "+")) or " " in key:
            raise _bad(source, str(key), "the key must be a params.yaml key such as train.lr")
        params.append(parse_entry(key, entry, source))
    return params


def grid(params: list[Param], source: str = "search space") -> dict[str, list[Any]]:
    """Optuna GridSampler's search space: every entry must list its choices."""
    missing = [p.key for p in params if not p.choices]
    if missing:
        raise _bad(
            source,
            missing[0],
            "the grid sampler needs `choices: [...]` (the values to try) on every entry",
        )
    size = grid_size(params)
    if size > GRID_LIMIT:
        raise FullcycleError(f"{source}: the grid has {size:,} points (over {GRID_LIMIT:,}).")
    return {p.key: list(p.choices) for p in params}


def grid_size(params: list[Param]) -> int:
    return math.prod(len(p.choices) for p in params)
