"""`fullcycle reproduced`: after a `dvc repro`, what of HEAD's committed record was reproduced.

`make repro` ends with it: whether every number of every metrics file DVC declares equals HEAD's
(or the differences); the test predictions of the model and the baseline, text by text; which
outputs differ in bytes (dvc.lock md5s, modified git files) and why, with this CPU's ISA flags
(float kernels differ between AVX2 and AVX-512/AMX: bytes reproduce on one kind, metrics across);
what to do next. A HEAD without dvc.lock (a new project) is a first run. Exit 0 when the committed
metrics were reproduced (bytes may differ), 1 when one differs. Light at import.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fullcycle.core import paths
from fullcycle.core.errors import FullcycleError
from fullcycle.core.provenance import LOCK_FILE, locked_outs
from fullcycle.lifecycle.gitutil import dirty_files, repo_root, rev_parse, show_file

REV = "HEAD"
PREDICTION_FILES = {  # what evaluate and baseline write: whose predictions they are
    paths.EVAL_PREDICTIONS.as_posix(): "the model's",
    paths.BASELINE_PREDICTIONS.as_posix(): "the baseline's",
}
ISA_FLAGS = ("avx2", "avx512f", "avx512_vnni", "amx_tile", "amx_int8", "amx_bf16")
CPU_REASON = (
    "float kernels differ between CPU kinds (e.g. AVX2 vs AVX-512/AMX); on the CPU kind that "
    "made the lock the bytes are equal too"
)
SHOWN = 5  # differences listed before "and N more"
KEEP = "git checkout dvc.lock reports/ && dvc checkout"
COMMIT = 'git add dvc.lock reports && git commit -m "dvc repro"'


@dataclass
class Report:
    commit: str
    compared: list[str]  # metrics files compared (HEAD has them)
    numbers: int  # committed numbers compared
    differences: list[tuple[str, Any, Any]]  # (file:metric, committed, now)
    skipped: list[str] = field(default_factory=list)  # "file (why)" not compared
    predictions: list[str] = field(default_factory=list)  # one line per predictions file
    outputs: list[str] = field(default_factory=list)  # outputs whose bytes differ from HEAD's
    inputs: list[str] = field(default_factory=list)  # inputs (deps, params) that differ
    others: list[str] = field(default_factory=list)  # other uncommitted tracked files
    cpu: str | None = None
    first_run: bool = False  # HEAD commits no dvc.lock: nothing recorded yet (a new project)

    @property
    def reproduced(self) -> bool:
        return not self.differences

    @property
    def exit_code(self) -> int:
        return 0 if self.reproduced else 1

    def lines(self) -> list[str]:
        if self.first_run:
            first = f"{REV} ({self.commit[:7]}) commits no {LOCK_FILE} yet: the first recorded run"
            return [f"reproduced? {first}; next: commit it (later runs compare with it): {COMMIT}"]
        out = [
            f"reproduced? this workspace against {REV} ({self.commit[:7]}, the committed record)"
        ]
        if self.reproduced and self.numbers:
            out.append(
                f"metrics: reproduced: all {self.numbers} committed numbers are equal "
                f"({', '.join(self.compared)})"
            )
        elif self.reproduced:
            out.append(f"metrics: {REV} commits no metrics to compare with")
        else:
            out.append(
                f"metrics: NOT reproduced: {len(self.differences)} of {self.numbers} committed "
                "numbers differ (metric: committed -> now):"
            )
            for name, then, now in self.differences[:SHOWN]:
                out.append(f"  {name}: {_show(then)} -> {_show(now)}")
            if len(self.differences) > SHOWN:
                more = len(self.differences) - SHOWN
                out.append(f"  ... and {more} more (`dvc metrics diff {REV}` lists all)")
            differ = {name.partition(":")[0] for name, _, _ in self.differences}
            if equal := [path for path in self.compared if path not in differ]:
                out.append(f"  equal: every number of {', '.join(equal)}")
        if self.skipped:
            out.append(f"not compared: {', '.join(self.skipped)}")
        out += self.predictions
        if self.outputs:
            out.append(f"outputs whose bytes differ from {REV}'s: {_listed(self.outputs)}")
            if self.inputs and self.reproduced:
                out.append(
                    "  metrics equal; the inputs differ too (below): the bytes may come from them"
                )
            elif self.inputs:
                out.append("  the inputs differ too (below): a new result, not a reproduction")
            elif self.reproduced:
                out.append(f"  bytes differ, metrics equal: {CPU_REASON}")
            else:
                out.append(
                    f"  from the same inputs as {REV}'s (code, params, data, as dvc.lock says)"
                )
        else:
            out.append(f"bytes: every output equals {REV}'s (dvc.lock and reports/ unchanged)")
        if self.inputs:
            out.append(f"inputs that differ from {REV}'s: {_listed(self.inputs)}")
        if self.others:
            out.append(f"also uncommitted (not pipeline outputs): {_listed(self.others)}")
        if self.cpu:
            out.append(f"CPU here: {self.cpu}")
        if self.outputs:
            out.append(f"next: keep {REV}'s record: `{KEEP}`")
            out.append(f"  or commit the new one: `{COMMIT}`")
        return out


def cli_reproduced(args: argparse.Namespace) -> int:
    report = check()
    print("\n".join(report.lines()))
    return report.exit_code


def check(root: str | Path = ".") -> Report:
    """The workspace at `root` against HEAD's committed record (see the module docstring)."""
    root = repo_root(root)
    commit = rev_parse(REV, cwd=root)
    if commit is None:
        raise FullcycleError(
            f"{root} has no commit yet: there is no committed record to compare with. "
            "Commit dvc.lock and reports/ first."
        )
    if show_file(REV, LOCK_FILE, cwd=root) is None:
        return Report(commit, [], 0, [], first_run=True, cpu=cpu())
    committed, now, skipped = _metrics(root)
    numbers, differences = 0, []
    for path, values in committed.items():
        here = now.get(path, {})
        for key, then in values.items():
            numbers += 1
            value = here.get(key, "missing")
            if value != then:
                differences.append((f"{path}:{key}", then, value))
    report = Report(commit, list(committed), numbers, differences, skipped)
    report.predictions = _predictions(root)
    report.outputs, report.inputs, report.others = _bytes(root)
    report.cpu = cpu()
    return report


def _metrics(root: Path) -> tuple[dict[str, dict], dict[str, dict], list[str]]:
    """({file: {metric: value}} at HEAD, the same in the workspace, files not compared)."""
    from dvc.exceptions import DvcException
    from dvc.repo import Repo
    from dvc.repo.metrics.show import to_relpath

    try:
        with Repo(str(root)) as repo:
            shown = repo.metrics.show(revs=[REV], on_error="return")
            shown = {rev: to_relpath(repo.fs, repo.root_dir, data) for rev, data in shown.items()}
    except DvcException as exc:
        raise FullcycleError(f"cannot read the metrics with DVC in {root}: {exc}") from None
    committed, failed = _numbers(shown.get(REV))
    now, _ = _numbers(shown.get("workspace"))  # a committed file unreadable now: all "missing"
    cached = locked_outs(show_file(REV, LOCK_FILE, cwd=root))  # DVC-cached at HEAD, not in git
    skipped = [
        f"{path} ({REV}'s copy is not in this DVC cache: `dvc pull` and rerun to compare it)"
        if any(path == o or path.startswith(f"{o}/") for o in cached)
        else f"{path} ({'missing' if why == 'FileNotFoundError' else 'unreadable'} at {REV})"
        for path, why in failed.items()
    ]
    return committed, now, skipped


def _numbers(side: dict | None) -> tuple[dict[str, dict], dict[str, str]]:
    """({file: {dotted.key: number}}, {file: why not read}) from one revision of metrics.show."""
    found, failed = {}, {}
    for path, entry in ((side or {}).get("data") or {}).items():
        if "error" in entry:
            failed[path] = type(entry["error"]).__name__
        else:
            # numbers and true/false: DVC reads no text and no lists as metrics (an interval
            # moves only with the predictions, which are compared text by text)
            leaves = _leaves(entry.get("data"))
            found[path] = {k: v for k, v in leaves if isinstance(v, bool | int | float)}
    return found, failed


def _predictions(root: Path) -> list[str]:
    """One line per predictions file both sides have: are the predictions text by text equal?"""
    from fullcycle.core import evidence

    lines = []
    for path, whose in PREDICTION_FILES.items():
        file, then = root / path, show_file(REV, path, cwd=root)
        if then is None or not file.is_file():
            continue
        try:
            old = evidence.loads(then, f"{REV}:{path}")
            new = evidence.loads(file.read_text(encoding="utf-8"), path)
        except FullcycleError as exc:
            lines.append(f"{whose} predictions: not compared: {exc}")
            continue
        for split in (s for s in old if s in new):
            a, b = old[split], new[split]
            if a.split != b.split or a.predicted.shape != b.predicted.shape:
                said = f": scored on other {split} texts than {REV}'s ({a.rows} vs {b.rows})"
            elif k := int((a.predicted != b.predicted).any(axis=0).sum()):
                said = f": {k} of {a.rows} {split} texts predicted differently from {REV}'s"
            else:
                said = f" equal the committed ones on all {a.rows} {split} texts"
            lines.append(f"{whose} predictions{said} ({path})")
    return lines


def _bytes(root: Path) -> tuple[list[str], list[str], list[str]]:
    """(outputs whose bytes differ from HEAD's, inputs that differ, other uncommitted files)."""
    then_text = show_file(REV, LOCK_FILE, cwd=root)
    lock = root / LOCK_FILE
    now_text = lock.read_text(encoding="utf-8") if lock.is_file() else None
    then, now = locked_outs(then_text), locked_outs(now_text)
    outputs = {path for path in then.keys() | now.keys() if then.get(path) != now.get(path)}
    outs = then.keys() | now.keys()

    def is_output(path: str) -> bool:
        return path == LOCK_FILE or any(path == o or path.startswith(f"{o}/") for o in outs)

    a, b = _inputs(then_text), _inputs(now_text)
    inputs = {key for key in a.keys() | b.keys() if a.get(key) != b.get(key) and not is_output(key)}
    deps = {key.partition(":")[0] for key in a.keys() | b.keys()}  # paths and params files

    def is_input(path: str) -> bool:
        return any(path == d or path.startswith(f"{d}/") for d in deps)

    dirty = dirty_files(cwd=root)
    outputs |= {path for path in dirty if is_output(path)}
    inputs |= {path for path in dirty if is_input(path) and not is_output(path)}
    others = [path for path in dirty if not is_output(path) and not is_input(path)]
    return sorted(outputs), sorted(inputs), others


def _inputs(lock_text: str | None) -> dict[str, Any]:
    """{dependency path or params.yaml:key: its md5 or value} over every stage of a dvc.lock text
    (a dependency that is another stage's output is filtered out by the caller)."""
    try:
        lock = yaml.safe_load(lock_text or "") or {}
    except yaml.YAMLError:
        return {}
    found: dict[str, Any] = {}
    for stage in (lock.get("stages") or {}).values() if isinstance(lock, dict) else []:
        if not isinstance(stage, dict):
            continue
        for dep in stage.get("deps") or []:
            if isinstance(dep, dict) and dep.get("path"):
                found[str(dep["path"]).rstrip("/")] = dep.get("md5") or dep.get("hash")
        for file, values in (stage.get("params") or {}).items():
            for key, value in dict(_leaves(values)).items():
                found[f"{file}:{key}"] = json.dumps(value, sort_keys=True)
    return found


def _leaves(data: Any, prefix: str = ""):
    """(dotted.key, value) for every leaf of nested dicts."""
    if isinstance(data, dict) and data:
        for key, value in data.items():
            yield from _leaves(value, f"{prefix}{key}.")
    else:
        yield prefix.rstrip("."), data


def cpu(cpuinfo: str | Path = "/proc/cpuinfo") -> str | None:
    """'<model name> (ISA flags: avx2 avx512f ...)' from /proc/cpuinfo; None where there is none."""
    try:
        text = Path(cpuinfo).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    model, flags = None, set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and model is None:
            model = value.strip()
        elif key.strip() == "flags" and not flags:
            flags = set(value.split())
    if model is None and not flags:
        return None
    have = [f for f in ISA_FLAGS if f in flags]
    return f"{model or 'unknown CPU'} (ISA flags: {' '.join(have) or 'none of ' + ', '.join(ISA_FLAGS)})"


def _listed(items: list[str], most: int = 8) -> str:
    shown = ", ".join(items[:most])
    return shown + (f" and {len(items) - most} more" if len(items) > most else "")


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
