"""`fullcycle tune`: grid, random or Bayesian (TPE) search where every trial is a DVC experiment.

The loop is Optuna's ask-and-tell: ask for a trial, run `dvc exp run -n <study>-<number> -S ...`
(once per seed with `seeds: N`), read the validation macro-F1 it wrote (the mean over the seeds),
tell the study. It stops when the study holds --trials
finished trials (complete, pruned or failed with an error; a trial cut short by Ctrl-C or a kill is
marked failed, not counted, and its parameters are asked again), so rerunning the same command after
an interruption continues where it stopped. Several processes or machines can run it on one study.
"""

from __future__ import annotations

import argparse
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fullcycle.core.errors import FullcycleError

log = logging.getLogger(__name__)


@dataclass
class Options:
    space: str = "default"
    study: str | None = None
    sampler: str | None = None
    trials: int | None = None
    storage: str | None = None
    jobs: int = 1
    seeds: int | None = None
    fixed: list[str] = field(default_factory=list)


def settings(opts: Options) -> dict[str, Any]:
    """conf/tune/<space>.yaml with the command-line flags on top, checked (space.load_config)."""
    from fullcycle.tune import space, trial

    flags = {key: getattr(opts, key) for key in ("study", "sampler", "trials", "seeds")}
    config = space.load_config(opts.space, flags)
    for item in opts.fixed:
        if "=" not in item:
            raise FullcycleError(f"-S {item!r}: write fixed overrides as key=value.")
    trial.check_metric(config["metric"])
    config["params"] = space.parse(config["space"], config["path"])
    overlap = {p.key for p in config["params"]} & {i.split("=", 1)[0] for i in opts.fixed}
    if overlap:
        raise FullcycleError(
            f"-S {', '.join(sorted(overlap))}: fixed by -S and searched by {config['path']}; "
            "drop one of them."
        )
    config["grid"] = (
        space.grid(config["params"], config["path"]) if config["sampler"] == "grid" else None
    )
    if config["grid"] is not None and config["trials"] > space.grid_size(config["params"]):
        print(
            f"tune: the grid has {space.grid_size(config['params'])} points: "
            f"running those, not {config['trials']} trials"
        )
        config["trials"] = space.grid_size(config["params"])
    return config


class Loop:
    """Ask, run, tell until the study holds `total` finished trials; `jobs` trials at a time."""

    def __init__(self, study: Any, config: dict[str, Any], opts: Options, url: str) -> None:
        from tqdm import tqdm

        from fullcycle.tune import study as studies

        self.study, self.config, self.opts, self.url = study, config, opts, url
        self.total, self.jobs = int(config["trials"]), max(1, int(opts.jobs))
        self.distributions = {p.key: p.distribution for p in config["params"]}
        self.log_dir = studies.DB_DIR / study.study_name
        self.lock, self.stop = threading.Lock(), threading.Event()
        self.in_flight = 0
        self.errors: list[BaseException] = []
        done = min(studies.finished(study), self.total)
        self.bar = tqdm(total=self.total, initial=done, desc="trials", unit="trial")

    def _next(self) -> Any:
        from fullcycle.tune import study as studies
        from fullcycle.tune import trial

        with self.lock:
            if self.stop.is_set() or studies.finished(self.study) + self.in_flight >= self.total:
                return None
            self.in_flight += 1
            current = self.study.ask(self.distributions)
        values = ", ".join(f"{k}={trial.fmt(v)}" for k, v in current.params.items())
        self.bar.write(f"trial {current.number}: {values}")
        return current

    def worker(self) -> None:
        from optuna.trial import TrialState

        from fullcycle.tune import study as studies
        from fullcycle.tune import trial

        while (current := self._next()) is not None:
            try:
                outcome = trial.run(
                    self.study,
                    current,
                    self.config,
                    self.opts.fixed,
                    self.url,
                    self.log_dir,
                    self.stop,
                    temp=self.jobs > 1,
                )
            except BaseException:  # Ctrl-C (or a crash here): not counted, asked again next time
                frozen = self.study._storage.get_trial(current._trial_id)
                studies.interrupt(self.study, frozen, "interrupted (Ctrl-C)")
                self.bar.write(f"trial {current.number}: interrupted, will be asked again")
                with self.lock:
                    self.in_flight -= 1
                raise
            if outcome.error:
                self.study._storage.set_trial_user_attr(
                    current._trial_id, studies.ERROR, outcome.error
                )
            with self.lock:
                try:
                    self.study.tell(current, outcome.value, state=outcome.state)
                except RuntimeError as exc:  # the grid sampler's stop() outside optimize(); the
                    if "Study.stop" not in str(exc):  # trial is stored (tell does it `finally`)
                        raise
                self.in_flight -= 1
            what = {
                TrialState.COMPLETE: f"val macro-F1 {outcome.value or 0:.4f}"
                + (f" (mean of {self.config['seeds']} seeds)" if self.config["seeds"] > 1 else ""),
                TrialState.PRUNED: "pruned",
                TrialState.FAIL: f"failed: {outcome.error}",
            }[outcome.state]
            self.bar.write(f"trial {current.number}: {what}")
            self.bar.update(1)

    def run(self) -> None:
        from fullcycle.tune import study as studies

        pool = [threading.Thread(target=self._guarded, daemon=True) for _ in range(self.jobs)]
        for thread in pool:
            thread.start()
        try:
            for thread in pool:
                while thread.is_alive():
                    thread.join(timeout=0.5)
        except KeyboardInterrupt:
            self.stop.set()  # each worker stops its run and marks its trial interrupted
            for thread in pool:
                thread.join()
            self.bar.close()
            print(
                f"tune: interrupted. Run the same command to continue "
                f"({studies.finished(self.study)} of {self.total} trials finished)."
            )
            raise
        self.bar.close()
        if self.errors:
            raise self.errors[0]

    def _guarded(self) -> None:
        try:
            self.worker()
        except BaseException as exc:
            from fullcycle.tune.trial import Interrupted

            if not isinstance(exc, Interrupted):
                self.errors.append(exc)
                self.stop.set()


def tune(opts: Options) -> Any:
    """Run (or continue) the study until it holds `trials` finished trials; returns the study."""
    import optuna

    from fullcycle.tune import study as studies

    if not Path("dvc.yaml").is_file():
        raise FullcycleError("no dvc.yaml here: run `fullcycle tune` from the project root.")
    config = settings(opts)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    name = str(config["study"])
    url = studies.storage_url(name, opts.storage)
    study = studies.open_study(
        name,
        url,
        config["sampler"],
        int(config["seed"]),
        config["pruner"],
        config["grid"],
        int(config["tpe_startup_trials"]),
    )
    studies.check_seeds(study, int(config["seeds"]))
    recovered = studies.recover(study)
    if recovered:
        print(f"tune: trial(s) {', '.join(map(str, recovered))} were cut short: asked again")
    per = f", {config['seeds']} seeds a trial" if config["seeds"] > 1 else ""
    print(
        f"tune: study '{name}' ({config['sampler']}{per}, {url}): {studies.finished(study)} of "
        f"{config['trials']} trial(s) finished; logs in {studies.DB_DIR / name}/"
    )
    Loop(study, config, opts, url).run()
    return study


def report(study: Any) -> None:
    """The summary (read from the study and its experiments' validation predictions: nothing is
    run), then trials.md and the plots."""
    from fullcycle.tune import marks, results

    evidence = marks.gather(study)
    print(results.summary(study, evidence))
    written = results.write_reports(study, evidence=evidence)
    print("plots: " + ", ".join(str(p) for p in written))


def cli_tune(args: argparse.Namespace) -> int:
    """`fullcycle tune [--sampler S] [--trials N] [--seeds N] [--study NAME] [--storage URL]
    [-S k=v ...]`."""
    opts = Options(
        space=args.space,
        study=args.study,
        sampler=args.sampler,
        trials=args.trials,
        storage=args.storage,
        jobs=args.jobs,
        seeds=getattr(args, "seeds", None),
        fixed=list(args.set or []),
    )
    if args.show:
        import optuna

        from fullcycle.tune import space
        from fullcycle.tune import study as studies

        name = opts.study or str(space.load_config(opts.space)["study"])
        url = studies.storage_url(name, opts.storage)
        try:
            study = optuna.load_study(study_name=name, storage=url)
        except KeyError:
            raise FullcycleError(
                f"no study '{name}' in {url}: run `fullcycle tune` first."
            ) from None
        report(study)
        return 0
    report(tune(opts))
    return 0
