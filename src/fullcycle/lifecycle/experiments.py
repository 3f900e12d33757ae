"""Which run won — an experiment, or the commit they were run from (`fullcycle exp best` says it).

DVC owns experiments: `dvc.api.exp_show` lists them (and resolves names), git holds their commits.
This module only ranks them, and reads a chosen run's params and metrics from its commit. A metric
is named `section.key` inside reports/eval/metrics.json (e.g. `test.f1_macro`), or
`FILE:section.key` for another metrics file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fullcycle.core import metric_spec, paths
from fullcycle.core.errors import FullcycleError
from fullcycle.lifecycle.conf import flatten
from fullcycle.lifecycle.gitutil import git, read_tracked, rev_parse, show_file

EVAL_METRICS = paths.EVAL_METRICS.as_posix()
BASELINE_METRICS = paths.BASELINE_METRICS.as_posix()
EVAL_PREDICTIONS = paths.EVAL_PREDICTIONS.as_posix()  # the paired comparisons read these
BASELINE_PREDICTIONS = paths.BASELINE_PREDICTIONS.as_posix()
OPTIMIZE_METRICS = paths.OPTIMIZE_SUMMARY.as_posix()  # the served variant next to torch fp32
DEFAULT_METRIC = "test.f1_macro"
BETTER = "better beyond noise"  # evidence.BETTER, without importing numpy here
# What every stage reads besides its declared deps: a commit touching none of these leaves the
# experiments run before it as valid as they were (a DVC remote in .dvc/config, a README edit).
PIPELINE_FILES = ("dvc.yaml", "dvc.lock", "params.yaml", "conf", ".dvcignore")
LOOKBACK = 20  # first-parent commits searched for such experiments


@dataclass
class Run:
    """A commit (HEAD, main) or an experiment derived from one (`baseline`)."""

    rev: str  # a full sha, or "workspace"
    name: str | None = None
    row: dict[str, Any] = field(default_factory=dict, repr=False)  # its dvc.api.exp_show row
    metrics_by_file: dict[str, Any] | None = field(default=None, repr=False)  # file -> JSON
    failed: bool = False
    baseline: str | None = None  # for an experiment: the commit it was run from
    # file -> {split: Predictions}; read from the commit on first use unless given
    predictions_by_file: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.rev[:7]})" if self.name else self.rev[:7]

    @property
    def metrics(self) -> dict[str, Any]:
        """The eval and baseline metrics files of this run, read from its commit."""
        if self.metrics_by_file is None:
            self.metrics_by_file = {}
            for path in (EVAL_METRICS, BASELINE_METRICS):
                text = read_tracked(path, self.rev)
                if text:
                    self.metrics_by_file[path] = json.loads(text)
        return self.metrics_by_file

    def predictions(self, path: str = EVAL_PREDICTIONS) -> dict[str, Any]:
        """{split: evidence.Predictions} of a predictions file at this run ({} when it has none)."""
        from fullcycle.core import evidence

        if self.predictions_by_file is None:
            self.predictions_by_file = {}
        if path not in self.predictions_by_file:
            if self.rev == "workspace":
                file = Path(path)
                text = file.read_text(encoding="utf-8") if file.is_file() else None
            else:
                text = read_tracked(path, self.rev)
            where = f"{path} at {self.label}"
            self.predictions_by_file[path] = evidence.loads(text, where) if text else {}
        return self.predictions_by_file[path]

    @property
    def params(self) -> dict[str, Any]:
        """params.yaml at this run's commit, flattened ("train.lr" -> 1e-4)."""
        text = show_file(self.rev, "params.yaml") if self.rev != "workspace" else None
        return flatten(yaml.safe_load(text or "") or {})

    def metric(self, spec: str) -> float | None:
        path, key = split_metric(spec)
        value: Any = None
        if self.row and self.metrics_by_file is None:  # exp_show's columns: FILE:key, else key
            value = self.row.get(f"{path}:{key}", self.row.get(key))
        if value is None or isinstance(value, str):
            return metric_spec.pick(self.metrics.get(path), key)
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return float(value) if ok else None


def split_metric(spec: str) -> tuple[str, str]:
    return metric_spec.split(spec, EVAL_METRICS)


def exp_show(rev: str) -> list[dict[str, Any]]:
    """dvc.api.exp_show for one revision (a commit or an experiment name), workspace row dropped."""
    import dvc.api
    from dvc.exceptions import DvcException

    try:
        rows = dvc.api.exp_show(revs=[rev])
    except DvcException as exc:
        raise FullcycleError(f"DVC could not list the experiments of '{rev}': {exc}") from None
    return [r for r in rows if r.get("rev") != "workspace"]


def _full_sha(short: str) -> str:
    sha = rev_parse(short)
    if sha is None:
        raise FullcycleError(f"DVC listed experiment commit {short}, but git cannot resolve it.")
    return sha


def listing(rev: str = "HEAD") -> tuple[Run, list[Run]]:
    """The commit `rev` and the finished experiments run from it."""
    sha = rev_parse(rev)
    if sha is None:
        raise FullcycleError(f"no commit '{rev}' here.")
    rows = exp_show(sha)
    commit = Run(rev=sha, row=next((r for r in rows if r.get("typ") == "baseline"), {}))
    runs = []
    for row in rows:
        state = str(row.get("State") or "").lower()
        if row.get("typ") == "baseline" or state in ("queued", "running"):
            continue
        runs.append(
            Run(
                rev=_full_sha(str(row["rev"])),
                name=row.get("Experiment"),
                row=row,
                failed=state == "failed",
                baseline=sha,
            )
        )
    return commit, runs


def candidates(rev: str = "HEAD") -> tuple[Run, list[Run]]:
    """The commit `rev` and the experiments whose results still hold there: those run from it,
    and those run from earlier commits when nothing the pipeline reads changed since. `dvc exp
    show` lists only the former, so committing a DVC remote would otherwise hide every
    experiment from `exp best` and `promote`."""
    head, runs = listing(rev)
    for earlier in unchanged_ancestors(head.rev):
        runs += listing(earlier)[1]
    return head, runs


def unchanged_ancestors(sha: str) -> list[str]:
    """First-parent ancestors of `sha` (nearest first) from which no commit up to `sha` changed a
    file the pipeline reads: dvc.yaml, dvc.lock, params, conf/, a .dvc file or a stage's dep."""
    pipeline = yaml.safe_load(show_file(sha, "dvc.yaml") or "") or {}
    deps = {
        str(dep).rstrip("/")
        for stage in (pipeline.get("stages") or {}).values()
        if isinstance(stage, dict)
        for dep in stage.get("deps") or []
        if isinstance(dep, str)
    }
    read = deps | set(PIPELINE_FILES)

    def reads(path: str) -> bool:
        return path.endswith(".dvc") or any(path == p or path.startswith(f"{p}/") for p in read)

    found = []
    ancestors = git("rev-list", "--first-parent", f"--max-count={LOOKBACK + 1}", sha).split()
    for rev in ancestors[1:]:
        changed = git("diff", "--name-only", "--no-renames", rev, sha).splitlines()
        if any(reads(path) for path in changed):
            break
        found.append(rev)
    return found


def rank(runs: list[Run], metric: str, lower_is_better: bool = False) -> list[Run]:
    """Best first; the sort is stable, so of equal scores the earlier run (HEAD) stays first."""
    scored = [r for r in runs if not r.failed and r.metric(metric) is not None]
    sign = 1.0 if lower_is_better else -1.0
    return sorted(scored, key=lambda r: sign * (r.metric(metric) or 0.0))


def best(metric: str = DEFAULT_METRIC, lower_is_better: bool = False) -> tuple[Run, Run]:
    """(winner, HEAD): the best of HEAD's committed run and its experiments. The winner is HEAD
    itself when no experiment scores strictly better."""
    ranked, head = ranking(metric, lower_is_better)
    return ranked[0], head


def ranking(metric: str = DEFAULT_METRIC, lower_is_better: bool = False) -> tuple[list[Run], Run]:
    """(HEAD's run and its experiments best first, HEAD), or an error when none has `metric`.
    HEAD's experiments include those of earlier commits whose results still hold (`candidates`)."""
    head, runs = candidates("HEAD")
    ranked = rank([head, *runs], metric, lower_is_better)
    if not ranked:
        path, key = split_metric(metric)
        raise FullcycleError(
            f"neither HEAD nor its {len(runs)} experiment(s) have '{key}' in {path}. Run "
            "some with `dvc exp run -S key=value`, or name another metric with "
            "--metric FILE:section.key."
        )
    return ranked, head


def versus(reference: Run, run: Run, metric: str) -> Any:
    """The paired comparison of `run` against `reference` on `metric`'s split (test or
    labelled), or None when either lacks predictions or they scored different splits."""
    from fullcycle.core import evidence

    path, key = split_metric(metric)
    section, _, name = key.partition(".")
    if path != EVAL_METRICS or name not in evidence.METRICS:
        return None
    a = reference.predictions().get(section)
    b = run.predictions().get(section)
    if a is None or b is None or a.split != b.split or a.labels != b.labels:
        return None
    return evidence.compare(a, b)[name]


def find(name_or_rev: str) -> Run:
    """An experiment by name or sha (DVC resolves it), whichever commit it was run from."""
    rows = exp_show(name_or_rev)
    row = next((r for r in rows if r.get("typ") == "baseline"), None)
    sha = _full_sha(str(row["rev"])) if row else None
    parent = rev_parse(f"{sha}^") if sha else None
    if sha is None or parent is None:
        raise FullcycleError(
            f"'{name_or_rev}' is not an experiment here. List them with `dvc exp show -A`."
        )
    return Run(rev=sha, name=name_or_rev if sha != name_or_rev else None, baseline=parent)


def changed_params(run: Run, base: Run | None) -> dict[str, Any]:
    ours = run.params
    if base is None:
        return ours
    theirs = base.params
    return {k: v for k, v in ours.items() if theirs.get(k, object()) != v}


def headline(tree: Any) -> dict[str, float]:
    """The headline numbers of a metrics file (section.key); per-class ones stay in the file."""
    return {
        k: v
        for k, v in flatten(tree or {}).items()
        if isinstance(v, int | float) and not isinstance(v, bool) and k.count(".") <= 1
    }
