"""What the promotion gate reads: the `promote` settings, checked against their schema
(fullcycle.core.schema_release.Promote), from the base branch's params.yaml (a candidate cannot
loosen its own gate) or the one here; and the `dvc params|metrics diff` tables that show a
candidate against its base (`fullcycle promote`, `fullcycle pr-comment`).

There are no defaults here: a base branch whose params.yaml lacks a setting this code reads is
an error that says so and what to do, never a silent value.
"""

from __future__ import annotations

from pathlib import Path

from fullcycle.core import params
from fullcycle.core.errors import FullcycleError
from fullcycle.core.schema_release import Promote
from fullcycle.lifecycle.experiments import BASELINE_METRICS, EVAL_METRICS, OPTIMIZE_METRICS
from fullcycle.lifecycle.gitutil import dvc, show_file


def settings(rev: str | None = None, label: str | None = None) -> Promote:
    """The `promote` settings of params.yaml committed at `rev` (`label` names it in errors, e.g.
    origin/main), or of the params.yaml here when no rev is given."""
    if not rev:
        cfg = params.load()
        return from_section(params.section(cfg, "promote"), params.PARAMS_FILE)
    where = f"params.yaml at {label or rev}"
    text = show_file(rev, params.PARAMS_FILE)
    if text is None:
        raise FullcycleError(
            f"{label or rev} has no params.yaml: the gate is read from it. Commit one there "
            "(`fullcycle params`), or name another base (promote.base)."
        )
    try:
        cfg = params.load_text(text, where, sections=("promote",))
        return from_section(params.section(cfg, "promote", where), where)
    except FullcycleError as exc:
        raise FullcycleError(f"{exc}\n{_stale(label or rev)}") from None


def from_section(section, where: str) -> Promote:
    """A `promote` section (a DictConfig or a mapping) as the gate's settings."""
    from omegaconf import DictConfig, OmegaConf

    from fullcycle.core.schema_check import check_group

    values = OmegaConf.to_container(section) if isinstance(section, DictConfig) else section
    return check_group(Promote, values, where, prefix="promote")


def _stale(base: str) -> str:
    return (
        f"The gate is read from {base}'s params.yaml, not this checkout's (a candidate cannot "
        f"loosen its own gate). If {base} is newer than your branch, merge it first "
        f"(`git merge {base}`); if it predates a setting this version of fullcycle reads, land "
        f"that setting on {base} first (conf/promote/default.yaml, then `fullcycle params`)."
    )


def diff_table(kind: str, old: str, new: str | None, names: dict[str, str]) -> str:
    """`dvc params|metrics diff --md` between two revs (new=None: the workspace), with branch
    names instead of shas in the header. Metrics are the eval and baseline files' headline
    numbers; the per-class breakdown is in the model card."""
    args = [kind, "diff", old, *([new] if new else []), "--md"]
    if kind == "metrics":
        args += ["--all", "--targets", EVAL_METRICS, BASELINE_METRICS, OPTIMIZE_METRICS]
    lines = dvc(*args).strip().splitlines()
    if kind == "metrics":  # | Path | Metric | old | new | Change |: keep section.key rows only
        lines = [
            ln for ln in lines if ln.count("|") < 3 or ln.split("|")[2].strip().count(".") <= 1
        ]
    if len(lines) <= 2:  # a header and its rule: nothing differs
        return ""
    text = "\n".join(lines)
    for sha, name in names.items():
        text = text.replace(sha, name)
    return text


def read_params(path: str | Path) -> dict:
    """A params.yaml's values as they are (for a diff: another run's file, from any version of
    fullcycle, is shown, not checked); {} when there is none."""
    from omegaconf import OmegaConf

    path = Path(path)
    if not path.is_file():
        return {}
    cfg = params.load_text(path.read_text(encoding="utf-8"), str(path), sections=())
    return OmegaConf.to_container(cfg)  # type: ignore[return-value]
