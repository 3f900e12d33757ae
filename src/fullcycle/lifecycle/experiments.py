"""`fullcycle exp best`: which DVC experiment won, read from `dvc exp show --json`.

DVC owns experiments (runs, refs, params, metrics); this module only reads its JSON and ranks it.
A metric is named `section.key` inside reports/eval/metrics.json (e.g. `test.f1_macro`), or
`FILE:section.key` for another metrics file.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from typing import Any

from fullcycle.errors import FullcycleError
from fullcycle.lifecycle.gitutil import dvc, git, rev_parse

EVAL_METRICS = "reports/eval/metrics.json"
BASELINE_METRICS = "reports/baseline/metrics.json"
OPTIMIZE_METRICS = "reports/optimize/summary.json"  # the served variant next to torch fp32
DEFAULT_METRIC = "test.f1_macro"


@dataclass
class Run:
    """One row of `dvc exp show`: a commit (baseline) or an experiment derived from one."""

    rev: str
    name: str | None
    params: dict[str, Any] = field(default_factory=dict)  # flattened: "train.lr" -> 1e-4
    metrics: dict[str, Any] = field(default_factory=dict)  # file -> its JSON
    failed: bool = False
    baseline: str | None = None  # for an experiment: the commit it was run from

    @property
    def label(self) -> str:
        return f"{self.name} ({self.rev[:7]})" if self.name else self.rev[:7]

    def metric(self, spec: str) -> float | None:
        path, key = split_metric(spec)
        value: Any = self.metrics.get(path)
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return (
            float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
        )


def split_metric(spec: str) -> tuple[str, str]:
    path, _, key = spec.rpartition(":")
    return path or EVAL_METRICS, key


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(tree, dict):
        return {prefix: tree}
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        flat |= (
            flatten(value, f"{prefix}{key}.") if isinstance(value, dict) else {prefix + key: value}
        )
    return flat


def _run(entry: dict, baseline: str | None = None, failed: bool = False) -> Run:
    data = entry.get("data") or {}
    params = flatten((data.get("params") or {}).get("params.yaml", {}).get("data") or {})
    metrics = {
        path: found["data"]
        for path, found in (data.get("metrics") or {}).items()
        if isinstance(found, dict) and "data" in found
    }
    return Run(
        rev=entry["rev"],
        name=entry.get("name"),
        params=params,
        metrics=metrics,
        failed=failed or bool(entry.get("error")),
        baseline=baseline,
    )


def parse(rows: list[dict]) -> tuple[list[Run], list[Run]]:
    """(commits, experiments) from `dvc exp show --json`; the workspace row is skipped."""
    commits, experiments = [], []
    for row in rows:
        if row.get("rev") == "workspace":
            continue
        commits.append(_run(row))
        for exp in row.get("experiments") or []:
            state = (exp.get("executor") or {}).get("state") if exp.get("executor") else None
            for rev in exp.get("revs") or []:
                if state in ("queued", "running"):
                    continue
                experiments.append(_run(rev, baseline=row["rev"], failed=state == "failed"))
    return commits, experiments


def show(*revs: str) -> tuple[list[Run], list[Run]]:
    """The experiments of HEAD (and of `revs`, e.g. main), with their params and metrics."""
    args = ["exp", "show", "--json", "--no-pager"]
    for rev in revs:
        args += ["--rev", rev]
    out = dvc(*args)
    try:
        return parse(json.loads(out))
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise FullcycleError(f"could not read `dvc exp show --json` output ({exc}).") from None


def rank(experiments: list[Run], metric: str, lower_is_better: bool = False) -> list[Run]:
    scored = [e for e in experiments if not e.failed and e.metric(metric) is not None]
    return sorted(scored, key=lambda e: e.metric(metric) or 0.0, reverse=not lower_is_better)


def best(
    metric: str = DEFAULT_METRIC, lower_is_better: bool = False, also: tuple[str, ...] = ()
) -> tuple[Run, list[Run]]:
    """The winning experiment of HEAD, and the commits listed with it (HEAD and `also`: one
    `dvc exp show` for everything the caller needs)."""
    head = rev_parse("HEAD")
    commits, experiments = show("HEAD", *also) if also else show()
    ours = {e.rev: e for e in experiments if e.baseline == head}  # not `also`'s experiments
    ranked = rank(list(ours.values()), metric, lower_is_better)
    if not ranked:
        path, key = split_metric(metric)
        raise FullcycleError(
            f"no finished experiment of HEAD has '{key}' in {path} ({len(ours)} "
            "experiment(s) found). Run some with `dvc exp run -S key=value`, or name another "
            "metric with --metric FILE:section.key."
        )
    return ranked[0], commits


def commit_run(commits: list[Run], rev: str | None) -> Run | None:
    return next((c for c in commits if c.rev == rev), None)


def exp_refs() -> list[tuple[str, str, str]]:
    """(name, sha, baseline sha) of every local experiment, from DVC's refs/exps/AB/CDEF.../NAME."""
    out = git("for-each-ref", "refs/exps", "--format=%(refname) %(objectname)")
    refs = []
    for line in out.splitlines():
        ref, sha = line.split()
        parts = ref.split("/")
        if len(parts) == 5 and len(parts[2]) == 2:
            refs.append((parts[4], sha, parts[2] + parts[3]))
    return refs


def find(name_or_rev: str, also: tuple[str, ...] = ()) -> tuple[Run, list[Run]]:
    """An experiment by name or (a prefix of) its sha, whichever commit it was run from, and the
    commits listed with it (its baseline and `also`)."""
    refs = exp_refs()
    matches = [r for r in refs if r[0] == name_or_rev] or [
        r for r in refs if len(name_or_rev) >= 4 and r[1].startswith(name_or_rev)
    ]
    if len(matches) != 1:
        known = ", ".join(sorted({r[0] for r in refs})) or "none"
        what = "is ambiguous" if matches else "is not a local experiment"
        raise FullcycleError(
            f"'{name_or_rev}' {what} (experiments: {known}). List them with `dvc exp show -A`."
        )
    _, sha, baseline = matches[0]
    commits, experiments = show(baseline, *also)
    exp = next((e for e in experiments if e.rev == sha), None)
    if exp is None:
        raise FullcycleError(f"`dvc exp show --rev {baseline[:7]}` does not list {name_or_rev}.")
    return exp, commits


def changed_params(run: Run, base: Run | None) -> dict[str, Any]:
    if base is None:
        return dict(run.params)
    return {k: v for k, v in run.params.items() if base.params.get(k, object()) != v}


def main_best(args: argparse.Namespace) -> int:
    """`fullcycle exp best [--metric M] [--lower] [--json]`."""
    metric = args.metric or DEFAULT_METRIC
    winner, commits = best(metric, args.lower)
    base = commit_run(commits, winner.baseline)
    path, _ = split_metric(metric)
    changed = changed_params(winner, base)
    if args.json:
        print(
            json.dumps(
                {
                    "name": winner.name,
                    "rev": winner.rev,
                    "metric": metric,
                    "value": winner.metric(metric),
                    "baseline_rev": winner.baseline,
                    "params_changed": changed,
                    "metrics": winner.metrics,
                },
                indent=2,
            )
        )
        return 0
    print(f"best experiment: {winner.label} with {metric} = {winner.metric(metric):.4f}")
    print("params changed vs the commit it ran from:" if changed else "params: unchanged")
    for key, value in sorted(changed.items()):
        print(f"  {key} = {value}")
    for file, tree in sorted(winner.metrics.items()):
        flat = {  # the headline numbers: per-class breakdowns stay in the file
            k: v
            for k, v in flatten(tree).items()
            if isinstance(v, int | float) and not isinstance(v, bool) and k.count(".") <= 1
        }
        if flat and (file == path or file in (EVAL_METRICS, BASELINE_METRICS)):
            print(f"{file}: " + ", ".join(f"{k} {v:g}" for k, v in flat.items()))
    print(f"promote it with: fullcycle promote {winner.name or winner.rev[:7]}")
    return 0
