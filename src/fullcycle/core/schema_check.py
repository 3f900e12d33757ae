"""Checking params against the schema (schema.py, schema_release.py), and the one error that says
what is wrong: each problem on its own line, naming the key (dotted), its value and what is
allowed, e.g. `params.yaml: train.lr = -1: must be a number > 0 (conf/train/default.yaml)`.
"""

from __future__ import annotations

import difflib
import functools
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any, ClassVar, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from fullcycle.core.errors import FullcycleError
from fullcycle.core.schema import (
    Baseline,
    Data,
    Explain,
    Group,
    Label,
    Model,
    Monitor,
    Train,
    Trainer,
)
from fullcycle.core.schema_release import Optimize, Plan, Promote, Serve

RETIRED = {  # keys of older params.yaml files -> what replaced them
    "explain.budget_s": "the budget is explain.budget_token_steps (tokens x n_steps: the same "
    "on every machine)",
    "explain.cpu_gflops": "the budget is explain.budget_token_steps (tokens x n_steps: the same "
    "on every machine)",
    "optimize.tolerance": "it is replaced by optimize.confidence and optimize.margin (a variant "
    "is served unless it is worse than fp32 beyond noise on the test split)",
    "serve.max_latency_ms": "it is gone with BentoML's adaptive batcher: a queued request now "
    "waits at most serve.max_wait_ms for companions, and a full queue (serve.max_queue texts) "
    "is a 503",
}


class Params(Group):
    """params.yaml: conf/config.yaml composed with one option of every group. `check()` checks
    the sections a file has; `params.section()` says when one a step needs is missing."""

    conf: ClassVar[str] = "conf/config.yaml"
    data: Data
    model: Model
    trainer: Trainer
    train: Train
    promote: Promote
    optimize: Optimize
    serve: Serve
    monitor: Monitor
    explain: Explain
    label: Label
    plan: Plan
    seed: Annotated[int, Field(ge=0)]
    baseline: Baseline


def check(values: Mapping[str, Any], where: str, sections: Iterable[str] | None = None) -> None:
    """Check the top-level sections of `values` (all it has, or those of `sections` it has),
    each strictly; one FullcycleError lists every problem. A missing section is not a problem
    here: `params.section()` says so when a step asks for it."""
    names = list(values) if sections is None else [s for s in sections if s in values]
    problems: list[str] = []
    for name in names:
        if name not in Params.model_fields:
            problems.append(_unknown(where, str(name), Params))
            continue
        try:
            _validator(name)(values[name])
        except ValidationError as exc:
            problems += problems_of(exc, values[name], Params.model_fields[name], where, str(name))
    if problems:
        raise FullcycleError("\n".join(problems))


def check_group(model: type[Group], values: Any, where: str, prefix: str = "") -> Any:
    """`values` as a `model` instance, or one FullcycleError naming every bad key (`prefix`: the
    group's dotted name, e.g. "serve"; none for a file of its own such as conf/tune/x.yaml)."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        field = FieldInfo(annotation=model)
        raise FullcycleError("\n".join(problems_of(exc, values, field, where, prefix))) from None


@functools.cache
def _validator(name: str) -> Callable[[Any], Any]:
    field = Params.model_fields[name]
    if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
        return field.annotation.model_validate
    strict = ConfigDict(strict=True)
    return TypeAdapter(
        Annotated[(field.annotation, *field.metadata)], config=strict
    ).validate_python


def problems_of(
    exc: ValidationError, values: Any, root: FieldInfo, where: str, prefix: str = ""
) -> list[str]:
    """One line per key pydantic found wrong in `values` (a union's several errors for one key
    are one line)."""
    lines: dict[tuple[str, ...], str] = {}
    for error in exc.errors():
        parts, field, parent = _resolve(root, error["loc"])
        key = ".".join(p for p in (prefix, *parts) if p)
        if tuple(parts) in lines:
            continue
        model = _model_of(field.annotation)
        source = (model or parent).conf
        conf = "" if source in where else f" ({source})"
        if error["type"] == "extra_forbidden":
            lines[tuple(parts)] = _unknown(where, key, parent)
        elif error["type"] == "missing":
            lines[tuple(parts)] = f"{where}: {key} is missing: must be {describe(field)}{conf}"
        elif error["type"] == "value_error" and model:  # a check across the group's keys
            why = str(error["msg"]).removeprefix("Value error, ").replace("{key}", key)
            lines[tuple(parts)] = f"{where}: {why}{conf}"
        else:
            value = _get(values, parts) if parts else values
            why = f"must be {describe(field)}"
            if error["type"] == "value_error":
                why = str(error["msg"]).removeprefix("Value error, ")
            lines[tuple(parts)] = f"{where}: {key} = {show(value)}: {why}{conf}"
    return list(lines.values())


def _unknown(where: str, key: str, parent: type[BaseModel]) -> str:
    if key in RETIRED:
        return (
            f"{where}: {key} is no longer read; {RETIRED[key]}. Regenerate it: `fullcycle params`."
        )
    head, _, name = key.rpartition(".")
    known = list(parent.model_fields)
    close = difflib.get_close_matches(name, known, n=1)
    guess = f"did you mean {'.'.join(p for p in (head, close[0]) if p)}? " if close else ""
    group = head or "the top level"
    return f"{where}: {key} is not a setting ({guess}{group} has: {', '.join(known)})"


def _resolve(root: FieldInfo, loc: tuple) -> tuple[list[str], FieldInfo, type[Group]]:
    """The keys of `loc` that name fields (not list indices or union members), the last field,
    and the model that holds it."""
    parts: list[str] = []
    field, parent = root, Params
    for item in loc:
        model = _model_of(field.annotation)
        if model is None or not isinstance(item, str):
            break
        parent = model
        if item not in model.model_fields:
            parts.append(item)  # an unknown key: the error names it
            break
        parts.append(item)
        field = model.model_fields[item]
    return parts, field, parent


def _model_of(tp: Any) -> type[Group] | None:
    """The model class `tp` is, or holds as a member of a union (X | None)."""
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return tp  # type: ignore[return-value]
    if get_origin(tp) in (Union, types.UnionType):
        return next((m for a in get_args(tp) if (m := _model_of(a))), None)
    return None


def _get(values: Any, parts: list[str]) -> Any:
    """The whole value at `parts` (for a bad list item, the list: the key is what was set)."""
    for part in parts:
        values = values.get(part) if isinstance(values, Mapping) else None
    return values


def show(value: Any) -> str:
    """A value as YAML would spell it (strings quoted, so 'first' and first read alike)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value)


def describe(field: FieldInfo | Any, metadata: tuple = ()) -> str:
    """What a field may hold, in words: "a number in [0, 1)", "one of first, random", ..."""
    if isinstance(field, FieldInfo):
        return describe(field.annotation, tuple(field.metadata))
    tp = field
    origin, args = get_origin(tp), get_args(tp)
    if origin is Annotated:
        return describe(args[0], (*args[1:], *metadata))
    if origin in (Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        text = " or ".join(describe(m) for m in members)
        return text + (", or null" if len(members) < len(args) else "")
    if origin is Literal:
        return "one of " + ", ".join(str(a) for a in args)
    if origin is list:
        item = describe(args[0])
        return "a list " + (
            item.replace("one of", "out of", 1) if get_origin(args[0]) is Literal else f"of {item}"
        )
    if origin is dict:
        return "a mapping"
    if model := _model_of(tp):
        return "a mapping of " + ", ".join(model.model_fields)
    return _scalar(tp, _flat(metadata))


def _flat(metadata: tuple) -> list[Any]:
    out: list[Any] = []
    for m in metadata:
        out += m.metadata if isinstance(m, FieldInfo) else [m]
    return out


def _scalar(tp: Any, metadata: list[Any]) -> str:
    if tp is bool:
        return "true or false"
    if tp is str:
        pattern = next((m.pattern for m in metadata if getattr(m, "pattern", None)), None)
        text = (
            "a non-empty string"
            if any(getattr(m, "min_length", 0) for m in metadata)
            else "a string"
        )
        return text + (f" matching {pattern}" if pattern else "")
    word = {int: "a whole number", float: "a number"}.get(tp, getattr(tp, "__name__", str(tp)))
    low = next(((">=", m.ge) for m in metadata if getattr(m, "ge", None) is not None), None)
    low = low or next(((">", m.gt) for m in metadata if getattr(m, "gt", None) is not None), None)
    high = next((("<=", m.le) for m in metadata if getattr(m, "le", None) is not None), None)
    high = high or next((("<", m.lt) for m in metadata if getattr(m, "lt", None) is not None), None)
    if low and high:  # an interval: [ and ] include the bound, ( and ) leave it out
        left, right = "[" if low[0] == ">=" else "(", "]" if high[0] == "<=" else ")"
        return f"{word} in {left}{low[1]:g}, {high[1]:g}{right}"
    bound = low or high
    return f"{word} {bound[0]} {bound[1]:g}" if bound else word
