"""One trial: ask -> `dvc exp run -n <study>-<number> -S ...` -> read the metrics -> tell.

Each trial is a real DVC experiment (a git ref, listed by `dvc exp show`, promotable by
`fullcycle promote <name>`). Its output goes to .fullcycle/tune/<study>/<name>.log. The training
process learns which trial it is from FULLCYCLE_TUNE_TRIAL (train/pruning.py) and reports each
epoch there, so Optuna's pruner can stop it early.

With `seeds: N` (conf/tune, or --seeds) a trial is N experiments: `<study>-<number>` is the plain
run (exactly the `seeds: 1` trial), `<study>-<number>-s<k>` the same values with `-S seed=<s+k>`,
s being the seed the plain run trains with; the trial's value is the mean of their metrics.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from fullcycle.core import metric_spec
from fullcycle.core.errors import FullcycleError
from fullcycle.train.trial_ref import ENV, PRUNED_ATTR, TrialRef
from fullcycle.tune import study as studies

GRACE_S = 60  # after Ctrl-C, how long the run may take to stop by itself before it is killed


@dataclass
class Outcome:
    state: TrialState
    value: float | None = None
    error: str | None = None


def fmt(value: Any) -> str:
    """A value as Hydra's override grammar reads it back (what `-S key=value` takes)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(fmt(v) for v in value) + "]"
    return str(value)


def _items(fixed: list[str], params: dict[str, Any]) -> list[str]:
    return [*fixed, *(f"{k}={fmt(v)}" for k, v in params.items())]


def overrides(fixed: list[str], params: dict[str, Any]) -> list[str]:
    """`-S` flags: the fixed overrides first, then the trial's own values."""
    flags = []
    for item in _items(fixed, params):
        flags += ["-S", item]
    return flags


def read_metric(spec: str, rev: str | None = None) -> float | None:
    """`FILE:section.key` from a JSON metrics file (default dvclive/metrics.json:best.val_f1_macro):
    in the workspace, or as the experiment `rev` recorded it (a `--temp` run leaves the workspace
    alone)."""
    path, key = metric_spec.split(spec)
    if rev is None:
        try:
            return metric_spec.pick_json(Path(path).read_text(encoding="utf-8"), key)
        except OSError:
            return None
    import dvc.api
    from dvc.exceptions import DvcException

    try:
        return metric_spec.pick_json(dvc.api.read(path, rev=rev), key)
    except (DvcException, OSError):
        return None


def last_error(log: Path) -> str:
    """The line of a failed run's log that says why (fullcycle's `error:` line, else DVC's)."""
    lines = [ln.strip() for ln in log.read_text(encoding="utf-8", errors="replace").splitlines()]
    for prefix in ("error:", "ERROR:", "Traceback"):
        hits = [ln for ln in lines if ln.startswith(prefix)]
        if hits:
            return (
                hits[0]
                if prefix != "Traceback"
                else next((ln for ln in reversed(lines) if ln), hits[0])
            )
    return next((ln for ln in reversed(lines) if ln), "the run failed without output")


class Interrupted(Exception):
    """The tune process was asked to stop (Ctrl-C) while this trial ran."""


def _wait(proc: subprocess.Popen, study: optuna.Study, trial_id: int, stop: threading.Event) -> int:
    """Wait for the run, keeping the trial's heartbeat (other workers then know it is alive)."""
    beat = 0.0
    while True:
        if stop.is_set():
            raise Interrupted
        try:
            return proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            if time.monotonic() - beat >= studies.HEARTBEAT_S:
                study._storage.record_heartbeat(trial_id)
                beat = time.monotonic()


def _stop(proc: subprocess.Popen) -> None:
    """Ctrl-C for the run's whole process group (training checkpoints and stops), then a kill."""
    for sig, wait in ((signal.SIGINT, GRACE_S), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=wait)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def experiment_names(study: str, number: int, seeds: int = 1) -> list[str]:
    """`<study>-<number>` for the trial's first seed, `<study>-<number>-s<k>` for seed k >= 1."""
    return [f"{study}-{number}"] + [f"{study}-{number}-s{k}" for k in range(1, seeds)]


_COMPOSE = threading.Lock()  # Hydra's compose is global state: one thread at a time


def base_seed(fixed: list[str], params: dict[str, Any]) -> int:
    """The `seed` a plain run of this trial trains with: conf/ composed with the fixed overrides
    and the trial's values, as `dvc exp run` composes it (not the workspace's params.yaml, which
    holds whatever the last run left there)."""
    from fullcycle.core import params as project_params

    with _COMPOSE:
        composed = project_params.compose(overrides=_items(fixed, params))
    return int(composed.get("seed", 0))


def seed_overrides(fixed: list[str], params: dict[str, Any], seed: int | None) -> list[str]:
    """The `-S` flags of one seed's run: the trial's own (seed None: the plain trial, as with
    `seeds: 1`), or those with `seed=<seed>` in place of any other seed."""
    if seed is None:
        return overrides(fixed, params)
    fixed = [i for i in fixed if i.split("=", 1)[0].strip() != "seed"]
    params = {k: v for k, v in params.items() if k != "seed"}
    return overrides([*fixed, f"seed={seed}"], params)


@dataclass
class _Context:
    study: optuna.Study
    trial: optuna.Trial
    stop: threading.Event


def _launch(cmd: list[str], env: dict[str, str], log: Path, ctx: _Context) -> int:
    """Run one `dvc exp run` in its own process group, its output in `log`; its exit code."""
    storage, trial_id = ctx.study._storage, ctx.trial._trial_id
    with log.open("w", encoding="utf-8") as out:
        out.write("$ " + " ".join(cmd) + "\n")
        out.flush()
        # its own process group: a Ctrl-C meant for `tune` is handled here, and a rerun after a
        # kill -9 can stop an orphaned run before the workspace is reused
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        storage.set_trial_user_attr(trial_id, studies.GROUP, proc.pid)
        try:
            return _wait(proc, ctx.study, trial_id, ctx.stop)
        except BaseException:
            _stop(proc)
            raise


def run(
    study: optuna.Study,
    trial: optuna.Trial,
    config: dict[str, Any],
    fixed: list[str],
    url: str,
    log_dir: Path,
    stop: threading.Event,
    temp: bool = False,
) -> Outcome:
    """Run the trial's experiments (one per seed) and return how it ended (the caller tells the
    study): its value is the mean of the seeds' metrics. Only the first seed reports its epochs to
    the pruner (every trial's first seed is judged against the others' first seeds); a pruned
    first seed prunes the trial before the other seeds run. `temp`: in a temporary copy of the
    repository (`dvc exp run --temp`), so that several trials run side by side; otherwise in the
    workspace, which then holds the trial's last run."""
    from fullcycle.core.provenance import git_commit

    seeds = int(config.get("seeds", 1))
    names = experiment_names(study.study_name, trial.number, seeds)
    log_dir.mkdir(parents=True, exist_ok=True)
    storage, trial_id, ctx = study._storage, trial._trial_id, _Context(study, trial, stop)
    storage.set_trial_user_attr(trial_id, studies.EXPERIMENT, names[0])
    storage.set_trial_user_attr(trial_id, studies.EXPERIMENTS, names)
    storage.set_trial_user_attr(trial_id, studies.WORKER, studies.me())
    commit = git_commit()
    if commit:
        storage.set_trial_user_attr(trial_id, studies.COMMIT, commit)
    try:
        first = base_seed(fixed, trial.params) if seeds > 1 else 0
    except FullcycleError as exc:  # an override conf/ cannot compose: every run would fail
        return Outcome(TrialState.FAIL, error=str(exc))
    ref = TrialRef(url, study.study_name, trial.number, dict(config["pruner"]))
    values: list[float] = []
    for k, name in enumerate(names):
        log = log_dir / f"{name}.log"
        cmd = ["dvc", "--wait-for-lock", "exp", "run", *(["--temp"] if temp else []), "-n", name]
        cmd += seed_overrides(fixed, trial.params, first + k if k else None)
        cmd += list(config["targets"] or [])
        env = {key: value for key, value in os.environ.items() if key != ENV}
        if k == 0:
            env[ENV] = ref.to_env()
        which = f"seed {first + k} ({name}): " if seeds > 1 else ""
        if _launch(cmd, env, log, ctx) != 0:
            if k == 0 and PRUNED_ATTR in storage.get_trial(trial_id).user_attrs:
                return Outcome(TrialState.PRUNED)
            return Outcome(TrialState.FAIL, error=f"{which}{last_error(log)} (log: {log})")
        value = read_metric(config["metric"], name if temp else None)
        if value is None:
            return Outcome(
                TrialState.FAIL, error=f"{which}the run wrote no {config['metric']} (see {log})"
            )
        values.append(value)
        storage.set_trial_user_attr(trial_id, studies.SEED_VALUES, values)
    return Outcome(TrialState.COMPLETE, mean(values))


def mean(values: list[float]) -> float:
    """A multi-seed trial's value: the plain mean of its seeds' metrics."""
    return sum(values) / len(values)


def check_metric(spec: str) -> None:
    """The study's value is a validation number: refuse anything read from the test split."""
    try:
        _, key = metric_spec.split(spec)
    except FullcycleError as exc:
        raise FullcycleError(f"tune {exc}") from None
    if "test" in key.split(".") or key.startswith("test"):
        raise FullcycleError(
            f"tune metric {spec!r} reads the test split: the study's value must be a validation "
            "number (the test split judges the winner once, at promotion)."
        )
