"""Edits of conf/ (the source of truth) with a YAML round-trip: comments, order and quoting survive.

Two callers land new params on a branch and must say so in conf/, so that `fullcycle params`
composes exactly what was run: `data add` (switch the data group, set the file's columns) and
`promote` (an experiment's `-S` overrides). Every edit goes through ruamel.yaml's round-trip
loader, never a regex, so a column named `#x` or a path holding `": "` is written as YAML.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from fullcycle.core import params
from fullcycle.core.errors import FullcycleError

CONFIG = "config.yaml"


def _float(representer: Any, value: float) -> Any:
    """3e-05 as `3.0e-05`: a float to every YAML reader (YAML 1.1 wants a dot before the `e`)."""
    text = repr(value)
    mantissa, e, exponent = text.partition("e")
    if e and "." not in mantissa:
        text = f"{mantissa}.0e{exponent}"
    return representer.represent_scalar("tag:yaml.org,2002:float", text)


def _yaml() -> YAML:
    yaml = YAML()  # round-trip
    yaml.representer.add_representer(float, _float)
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096  # never fold a long value onto a second line
    return yaml


def load(path: Path) -> Any:
    try:
        data = _yaml().load(path.read_text(encoding="utf-8")) if path.is_file() else None
    except Exception as exc:  # ruamel raises several unrelated types
        raise FullcycleError(f"{path} is not valid YAML: {exc}") from None
    return CommentedMap() if data is None else data


def dump(path: Path, data: Any) -> None:
    from fullcycle.core.io import write_text

    buf = io.StringIO()
    _yaml().dump(data, buf)
    write_text(path, buf.getvalue())


def _plain(value: Any) -> Any:
    """A composed value as ruamel writes it: lists and maps in block style."""
    if isinstance(value, dict):
        out = CommentedMap()
        for k, v in value.items():
            out[k] = _plain(v)
        return out
    if isinstance(value, list):
        return CommentedSeq([_plain(v) for v in value])
    return value


def set_value(path: Path, dotted: str, value: Any) -> None:
    """Set `a.b.c` in the YAML file at `path` (creating maps on the way), keeping comments."""
    data = load(path)
    node, *parents = data, *dotted.split(".")[:-1]
    for key in parents:
        if not isinstance(node.get(key), dict):
            node[key] = CommentedMap()
        node = node[key]
    node[dotted.split(".")[-1]] = _plain(value)
    dump(path, data)


def defaults(conf_dir: Path) -> dict[str, str]:
    """{group: option} from config.yaml's defaults list (entries like `- model: minilm`)."""
    entries = load(conf_dir / CONFIG).get("defaults") or []
    return {
        str(k): str(v)
        for entry in entries
        if isinstance(entry, dict)
        for k, v in entry.items()
        if v is not None and not str(k).startswith(("override ", "optional "))
    }


def set_default(conf_dir: Path, group: str, option: str) -> None:
    """Switch config group `group` to `option` in config.yaml's defaults list."""
    path = conf_dir / CONFIG
    data = load(path)
    for entry in data.get("defaults") or []:
        if isinstance(entry, dict) and group in entry:
            entry[group] = option
            dump(path, data)
            return
    raise FullcycleError(f"{path} has no `- {group}: ...` entry in its defaults list.")


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """{"a.b": 1} from {"a": {"b": 1}}; lists are values (as Hydra overrides treat them)."""
    if not isinstance(tree, dict) or not tree:
        return {prefix.rstrip("."): tree} if prefix else {}
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        flat |= flatten(value, f"{prefix}{key}.")
    return flat


def differences(composed: dict[str, Any], target: dict[str, Any]) -> list[str]:
    """Dotted keys whose value differs, or that only one side has."""
    a, b = flatten(composed), flatten(target)
    missing = object()
    return sorted(k for k in a.keys() | b.keys() if a.get(k, missing) != b.get(k, missing))


def write_params(conf_dir: Path, target: dict[str, Any]) -> list[str]:
    """Edit conf/ so that it composes to exactly `target` (a params.yaml that `dvc exp run -S`
    composed from this conf/ plus overrides); returns the files changed, relative to conf_dir.

    Group switches first (`-S model=tiny`): for each group of the defaults list, the option whose
    composition is closest to `target`. Then every value that still differs is written to the
    option file of its group (`train.lr` -> train/default.yaml), else to config.yaml.
    """
    conf_dir = Path(conf_dir)
    before = {p: p.read_bytes() for p in conf_dir.rglob("*.yaml")}
    chosen = defaults(conf_dir)
    switches: list[str] = []
    best = len(differences(params.compose(conf_dir), target))
    for group, current in chosen.items():
        if best == 0:
            break
        for option in sorted(p.stem for p in (conf_dir / group).glob("*.yaml")):
            if option == current:
                continue
            distance = len(
                differences(params.compose(conf_dir, [*switches, f"{group}={option}"]), target)
            )
            if distance < best:
                best, chosen[group] = distance, option
        if chosen[group] != current:
            switches.append(f"{group}={chosen[group]}")
            set_default(conf_dir, group, chosen[group])

    flat = flatten(target)
    for key in differences(params.compose(conf_dir), target):
        if key not in flat:
            continue  # a key the run did not have: reported below if it remains
        group, _, rest = key.partition(".")
        if rest and group in chosen:
            set_value(conf_dir / group / f"{chosen[group]}.yaml", rest, flat[key])
        else:
            set_value(conf_dir / CONFIG, key, flat[key])

    left = differences(params.compose(conf_dir), target)
    if left:
        raise FullcycleError(
            "cannot write these params into conf/ so that it composes to the experiment's "
            f"params.yaml: {', '.join(left[:10])}. Edit conf/ by hand to match them."
        )
    return sorted(
        str(p.relative_to(conf_dir))
        for p in conf_dir.rglob("*.yaml")
        if before.get(p) != p.read_bytes()
    )
