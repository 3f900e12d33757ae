"""Which stages of dvc.yaml run, in its order: all of them for `dvc repro`, and for a tune trial
those between `train` and the trial's targets (a trial changes training params: what comes before
train is restored from DVC's run-cache, what the targets do not need is not run)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from fullcycle.core.errors import FullcycleError

DVC_YAML = Path("dvc.yaml")


def _paths(entries: list[Any] | None) -> list[str]:
    """The paths of a deps/outs/metrics/plots list (plain strings or {path: options})."""
    out: list[str] = []
    for entry in entries or []:
        out += [entry] if isinstance(entry, str) else [str(k) for k in dict(entry)]
    return [p.rstrip("/") for p in out]


def graph(path: str | Path = DVC_YAML) -> dict[str, set[str]]:
    """Each stage of dvc.yaml (in its order) and the stages whose outputs it depends on."""
    try:
        stages = (yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {})["stages"]
        outs = {
            name: _paths(s.get("outs")) + _paths(s.get("metrics")) + _paths(s.get("plots"))
            for name, s in stages.items()
        }
        deps = {name: _paths(s.get("deps")) for name, s in stages.items()}
    except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
        raise FullcycleError(
            f"cannot read the stages of {path} ({exc}): run fullcycle plan from the project root "
            "(where dvc.yaml is)."
        ) from None

    def made_by(dep: str) -> set[str]:
        return {
            s
            for s, paths in outs.items()
            if any(dep == p or dep.startswith(p + "/") for p in paths)
        }

    return {name: set().union(*(made_by(d) for d in deps[name])) - {name} for name in stages}


def upstream(stages: dict[str, set[str]], name: str) -> set[str]:
    """`name` and every stage it needs, transitively."""
    seen, todo = set(), [name]
    while todo:
        stage = todo.pop()
        if stage not in seen:
            seen.add(stage)
            todo += stages.get(stage, set())
    return seen


def trial_stages(
    stages: dict[str, set[str]], targets: list[str], start: str = "train"
) -> list[str]:
    """The stages a tune trial runs: those its targets need that depend on `start` (itself
    included), in dvc.yaml's order."""
    needed = set().union(*(upstream(stages, t) for t in targets)) if targets else set()
    after = {s for s in stages if start in upstream(stages, s)}
    return [s for s in stages if s in needed & after]
