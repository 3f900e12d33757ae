"""The Optuna study behind `fullcycle tune`: where it lives, its sampler, and recovery after a kill.

The default storage is an SQLite file, .fullcycle/tune/<study>.db (gitignored); any SQLAlchemy URL
(`--storage postgresql://...`) lets several machines work on one study. A trial is RUNNING while a
`fullcycle tune` process runs its experiment; that process's host, pid and the experiment's process
group are stored on the trial, so a rerun after Ctrl-C or `kill -9` can tell a dead trial from a
live one on another worker, mark it failed, and ask for its parameters again.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import warnings
from pathlib import Path
from typing import Any

import optuna
from optuna.storages._heartbeat import is_heartbeat_enabled
from optuna.trial import FrozenTrial, TrialState

from fullcycle.core.errors import FullcycleError
from fullcycle.train.trial_ref import build_pruner

DB_DIR = Path(".fullcycle/tune")
WORKER = "worker"  # "host:pid" of the tune process that runs the trial
GROUP = "process_group"  # the `dvc exp run` process group, killed if its tune process died
INTERRUPTED = "interrupted"  # marked failed because its run was cut short: not counted, re-asked
RETRY_OF = "retry_of"
ERROR = "error"
EXPERIMENT = "experiment"  # the trial's (first seed's) experiment name
EXPERIMENTS = "experiments"  # all its experiments, one per seed: what --show reads predictions from
SEED_VALUES = "seed_values"  # each seed's validation metric; the trial's value is their mean
COMMIT = "commit"  # the commit the trial's experiments ran from: main's run to compare with
SEEDS = "seeds"  # (study attr) training runs per trial: one study never mixes counts
HEARTBEAT_S = 30
# ask/tell keeps its own heartbeat (trial.py records one while a run goes on)
warnings.filterwarnings(
    "ignore", message="Heartbeat of storage is supposed to be used"
)  # a worker on another machine counts as dead after 4 missed heartbeats


def storage_url(study: str, storage: str | None) -> str:
    if storage:
        prefix = "sqlite:///"
        if storage.startswith(prefix) and not storage[len(prefix) :].startswith("/"):
            # absolute, as trials' training processes may run elsewhere (--jobs: temp copies)
            return prefix + str(Path(storage[len(prefix) :]).resolve())
        return storage
    DB_DIR.mkdir(parents=True, exist_ok=True)
    # absolute: a trial's training process (another cwd under `dvc exp run --temp`) opens it too
    return f"sqlite:///{(DB_DIR / f'{study}.db').resolve()}"


def make_sampler(
    kind: str, seed: int, grid: dict[str, list[Any]] | None, startup: int = 10
) -> optuna.samplers.BaseSampler:
    if kind == "tpe":
        # constant_liar: parallel workers do not all suggest the same point; the first `startup`
        # trials are random (Optuna's n_startup_trials), then TPE models the results
        return optuna.samplers.TPESampler(
            seed=seed, constant_liar=True, n_startup_trials=max(1, startup)
        )
    if kind == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if kind == "grid":
        return optuna.samplers.GridSampler(grid or {}, seed=seed)
    raise FullcycleError(f"unknown sampler {kind!r}; use tpe, random or grid.")


def open_study(
    name: str,
    url: str,
    sampler: str,
    seed: int,
    pruner: dict,
    grid: dict | None = None,
    startup: int = 10,
) -> optuna.Study:
    """Create the study or load it to continue; the sampler's seed moves on with the study's
    length, so a resumed study does not suggest its first points again."""
    try:
        with warnings.catch_warnings():  # heartbeats: "experimental" since Optuna 2.9
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            storage = optuna.storages.RDBStorage(
                url, heartbeat_interval=HEARTBEAT_S, grace_period=4 * HEARTBEAT_S
            )
    except Exception as exc:  # sqlalchemy: bad URL, missing driver, unreachable server
        raise FullcycleError(f"cannot open the study storage {url!r}: {exc}") from None
    try:
        done = len(optuna.load_study(study_name=name, storage=storage).trials)
    except KeyError:
        done = 0
    return optuna.create_study(
        study_name=name,
        storage=storage,
        sampler=make_sampler(sampler, seed + done, grid, startup),
        pruner=build_pruner(pruner),
        direction="maximize",
        load_if_exists=True,
    )


def check_seeds(study: optuna.Study, seeds: int) -> None:
    """A study's values are all means over the same number of seeds (a mean of 3 is steadier than
    one run, so mixing counts would favour the trials with more): record it, refuse another."""
    before = study.user_attrs.get(SEEDS, 1 if study.get_trials(deepcopy=False) else None)
    if before is not None and before != seeds:
        raise FullcycleError(
            f"study '{study.study_name}' runs {before} seed(s) a trial; --seeds {seeds} would mix "
            f"means over different numbers of runs: keep --seeds {before}, or start a new --study."
        )
    study.set_user_attr(SEEDS, seeds)


def counted(trial: FrozenTrial) -> bool:
    """A trial that counts towards --trials: finished, not cut short by an interruption."""
    if trial.state in (TrialState.COMPLETE, TrialState.PRUNED):
        return True
    return trial.state == TrialState.FAIL and not trial.user_attrs.get(INTERRUPTED)


def finished(study: optuna.Study) -> int:
    return sum(counted(t) for t in study.get_trials(deepcopy=False))


def me() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _dead(trial: FrozenTrial, stale: set[int]) -> bool:
    host, _, pid = str(trial.user_attrs.get(WORKER, "")).rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        return not _alive(int(pid))
    return trial._trial_id in stale  # another machine: its heartbeat stopped


def interrupt(study: optuna.Study, trial: FrozenTrial, why: str) -> None:
    """Mark a cut-short trial failed (not counted) and queue its parameters to be asked again."""
    storage = study._storage
    storage.set_trial_user_attr(trial._trial_id, INTERRUPTED, True)
    storage.set_trial_user_attr(trial._trial_id, ERROR, why)
    with contextlib.suppress(RuntimeError, ValueError):  # someone else finished it meanwhile
        storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
    if trial.params:
        study.enqueue_trial(trial.params, user_attrs={RETRY_OF: trial.number})


def recover(study: optuna.Study) -> list[int]:
    """Trials left RUNNING by a tune process that died: kill what is left of their experiment,
    mark them failed and ask their parameters again. Returns their numbers."""
    storage = study._storage
    stale = set()
    if is_heartbeat_enabled(storage):  # trials of workers on other machines that went silent
        stale = set(storage._get_stale_trial_ids(study._study_id))
    numbers = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if not _dead(trial, stale):
            continue
        group = trial.user_attrs.get(GROUP)
        if group and str(trial.user_attrs.get(WORKER, "")).startswith(socket.gethostname() + ":"):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(int(group), signal.SIGKILL)  # an orphaned `dvc exp run` and its stage
        interrupt(study, trial, "interrupted: its tune process stopped before the run ended")
        numbers.append(trial.number)
    return numbers
