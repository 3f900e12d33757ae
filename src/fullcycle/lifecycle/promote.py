"""`fullcycle promote [EXP]`: an experiment becomes a pull request carrying its evidence.

Order matters so that nothing is pushed half-way: every check (clean tree, the gate, both remotes,
the GitHub token) runs before anything is written; the branch commit is built with git plumbing
(the working tree is untouched); data is pushed before the git branch that points at it; and if
GitHub then refuses the PR, the pushed branch is put back as it was.
"""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import yaml

from fullcycle.errors import FullcycleError
from fullcycle.explain import summary as explain
from fullcycle.lifecycle import experiments, records
from fullcycle.lifecycle.experiments import BASELINE_METRICS, EVAL_METRICS, Run
from fullcycle.lifecycle.github import GitHub, GitHubError, compare_url, repo_from_env
from fullcycle.lifecycle.gitutil import (
    commit_files,
    dvc,
    dvc_remote,
    git,
    push_data,
    read_tracked,
    remote_ref,
    repo_root,
    require_clean,
    require_remote,
    rev_parse,
    show_file,
)

MODEL_CARD = "reports/model_card.md"
RECORD_DIR = "reports/promotion"
MARKER = "<!-- fullcycle:promote -->"
DEFAULTS = {
    "metric": "test.f1_macro",
    "tolerance": 0.01,
    "baseline_margin": 0.0,
    "base": "main",
    "branch_prefix": "promote/",
    "artifact": "classifier",
    "release_stage": "dev",
}


def settings(rev: str | None = None) -> dict[str, Any]:
    """The `promote` params as committed at `rev` (the base branch), else in params.yaml here."""
    text = show_file(rev, "params.yaml") if rev else None
    if text is None:
        try:
            text = open("params.yaml", encoding="utf-8").read()  # noqa: SIM115
        except OSError:
            text = ""
    section = (yaml.safe_load(text) or {}).get("promote") or {}
    return DEFAULTS | section


@dataclass
class Gate:
    metric: str
    candidate: float | None
    main: float | None
    baseline: float | None
    tolerance: float
    margin: float

    @property
    def vs_main(self) -> bool:
        if self.candidate is None:
            return False
        return self.main is None or self.candidate >= self.main - self.tolerance - 1e-9

    @property
    def vs_baseline(self) -> bool:
        if self.candidate is None or self.baseline is None:
            return False
        return self.candidate > self.baseline + self.margin + 1e-9

    @property
    def passed(self) -> bool:
        return self.vs_main and self.vs_baseline

    def table(self) -> str:
        fmt = records.fmt
        mark = {True: "✅ pass", False: "❌ fail"}
        main_ref = "no model on main yet" if self.main is None else fmt(self.main)
        return "\n".join(
            [
                f"| check ({self.metric}) | candidate | reference | rule | result |",
                "|---|---|---|---|---|",
                f"| vs main | {fmt(self.candidate)} | {main_ref} | ≥ main − {self.tolerance:g} "
                f"| {mark[self.vs_main]} |",
                f"| vs baseline | {fmt(self.candidate)} | {fmt(self.baseline)} "
                f"| > baseline {self.margin:+g} | {mark[self.vs_baseline]} |",
            ]
        )

    def failure(self) -> str:
        fmt, reasons = records.fmt, []
        if self.candidate is None:
            reasons.append(f"the experiment has no {self.metric} (did the evaluate stage run?)")
        elif not self.vs_main:
            reasons.append(
                f"{self.metric} {fmt(self.candidate)} is below main's {fmt(self.main)} "
                f"by more than the tolerance {self.tolerance:g}"
            )
        if self.candidate is not None and self.baseline is None:
            reasons.append(f"no baseline {self.metric} in {BASELINE_METRICS} to compare with")
        elif self.candidate is not None and not self.vs_baseline:
            reasons.append(
                f"{self.metric} {fmt(self.candidate)} does not beat the baseline's "
                f"{fmt(self.baseline)} (margin {self.margin:g})"
            )
        return "; ".join(reasons)


def check_gate(candidate: Run, main: Run | None, cfg: dict[str, Any]) -> Gate:
    metric = str(cfg["metric"])
    _, key = experiments.split_metric(metric)
    return Gate(
        metric=metric,
        candidate=candidate.metric(metric),
        main=main.metric(metric) if main else None,
        baseline=candidate.metric(f"{BASELINE_METRICS}:{key}"),
        tolerance=float(cfg["tolerance"]),
        margin=float(cfg["baseline_margin"]),
    )


def diff_table(kind: str, old: str, new: str | None, names: dict[str, str]) -> str:
    """`dvc params|metrics diff --md` between two revs (new=None: the workspace), with branch
    names instead of shas in the header. Metrics are the eval and baseline files' headline
    numbers; the per-class breakdown is in the model card."""
    args = [kind, "diff", old, *([new] if new else []), "--md"]
    if kind == "metrics":
        args += ["--all", "--targets", EVAL_METRICS, BASELINE_METRICS]
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


def pr_body(
    exp: Run,
    gate: Gate,
    base: str,
    params_md: str,
    metrics_md: str,
    card: str | None,
    explain_md: str = "",
) -> str:
    card_md = card.strip() if card else f"_No model card: {MODEL_CARD} was not produced._"
    return "\n".join(
        [
            f"## Promote experiment `{exp.name or exp.rev[:7]}` (`{exp.rev[:7]}`)",
            "",
            "### Gate",
            "",
            gate.table(),
            "",
            f"### Params (vs `{base}`)",
            "",
            params_md.strip() or "_No params changed._",
            "",
            f"### Metrics (vs `{base}`)",
            "",
            metrics_md.strip() or "_No metrics changed._",
            "",
            "### Model card",
            "",
            card_md,
            "",
            *([explain_md.strip(), ""] if explain_md else []),
            "<sub>Opened by `fullcycle promote`: running it again updates this PR.</sub>",
            MARKER,
        ]
    )


def promotion_evidence(
    name: str, exp: Run, exp_base: Run | None, gate: Gate, base: str, base_sha: str
) -> dict[str, Any]:
    """What reports/promotion/evidence.json records on the PR branch."""
    return {
        "experiment": name,
        "rev": exp.rev,
        "base": base,
        "base_rev": base_sha,
        "gate": {
            "metric": gate.metric,
            "candidate": gate.candidate,
            "main": gate.main,
            "baseline": gate.baseline,
            "tolerance": gate.tolerance,
            "baseline_margin": gate.margin,
            "passed": gate.passed,
        },
        "params_changed": experiments.changed_params(exp, exp_base),
        "metrics": {path: exp.metrics.get(path) for path in (EVAL_METRICS, BASELINE_METRICS)},
    }


def print_unsent(title: str, branch: str, base: str, body: str) -> None:
    """Without GITHUB_TOKEN: the request we would have sent, and where to open the PR by hand."""
    repo = repo_from_env()
    print(
        "GITHUB_TOKEN is not set, so no pull request was opened. It would send "
        f"POST /repos/{repo or 'OWNER/NAME'}/pulls with:"
    )
    print(json.dumps({"title": title, "head": branch, "base": base}, ensure_ascii=False))
    print(f"and this body:\n{'-' * 72}\n{body}\n{'-' * 72}")
    where = compare_url(repo, base, branch) if repo else "set GITHUB_REPOSITORY=owner/name for it"
    print(f"open it by hand (compare URL): {where}")


def promote(args: argparse.Namespace) -> int:
    repo_root()
    require_clean("promote")
    base = str(settings()["base"])
    cfg = settings(base)  # the gate as committed on the base branch
    base_sha = rev_parse(base)
    if base_sha is None:
        raise FullcycleError(f"no branch '{base}' here: promotion PRs target it (promote.base).")
    require_remote("origin")
    remote = dvc_remote()
    if not remote:
        raise FullcycleError(
            "no default DVC remote: the PR's model and data must be pushed "
            "somewhere reviewers can pull from. Add one with `dvc remote add -d NAME URL`."
        )
    metric = str(cfg["metric"])
    if args.experiment:
        exp, commits = experiments.find(args.experiment, also=(base_sha,))
    else:
        exp, commits = experiments.best(metric, also=(base_sha,))
    exp_base = experiments.commit_run(commits, exp.baseline)
    name = exp.name or exp.rev[:7]
    gate = check_gate(exp, experiments.commit_run(commits, base_sha), cfg)
    print(f"candidate: experiment {exp.label}\n{gate.table()}")
    if not gate.passed:
        raise FullcycleError(
            f"experiment {exp.label} does not pass the promotion gate: "
            f"{gate.failure()}. Nothing was pushed."
        )

    # Everything that can refuse is asked before anything is written or pushed.
    github = GitHub.from_env()
    if github:
        github.check_access()

    branch = f"{cfg['branch_prefix']}{name}"
    card = read_tracked(MODEL_CARD, exp.rev)
    record = records.Promotion(
        name, exp.rev[:12], metric, gate.candidate or 0.0, gate.main, gate.baseline
    )
    evidence = promotion_evidence(name, exp, exp_base, gate, base, base_sha)
    files = {f"{RECORD_DIR}/evidence.json": json.dumps(evidence, indent=2) + "\n"}
    if card:
        files[f"{RECORD_DIR}/model_card.md"] = card
    sha = commit_files(exp.rev, files, record.message(f"Gate:\n{gate.table()}"))
    names = {base_sha: base, sha: branch}
    with ThreadPoolExecutor(2) as pool:  # two dvc processes: about half the wait
        params_md, metrics_md = pool.map(
            lambda kind: diff_table(kind, base_sha, sha, names), ("params", "metrics")
        )
    title = f"Promote {name}: {metric} {records.fmt(gate.candidate)}" + (
        f" (main {records.fmt(gate.main)})" if gate.main is not None else ""
    )
    explain_md = explain.pr_section(
        explain.load(show_file(base_sha, str(explain.SUMMARY))),
        explain.load(show_file(exp.rev, str(explain.SUMMARY))),
        base,
    )
    body = pr_body(exp, gate, base, params_md, metrics_md, card, explain_md)

    pushed = push_data([exp.rev], remote)
    previous = remote_ref(f"refs/heads/{branch}")
    git("update-ref", f"refs/heads/{branch}", sha)
    git("push", "--force", "origin", f"{sha}:refs/heads/{branch}")
    print(
        f"pushed branch {branch} ({sha[:7]}) to origin and {pushed} file(s) to DVC remote '{remote}'"
    )

    if github is None:
        print_unsent(title, branch, base, body)
        return 0
    try:
        pull, created = github.upsert_pull(branch, base, title, body)
    except GitHubError as exc:
        _unpush(branch, previous)
        raise FullcycleError(
            f"{exc}\nThe branch push was undone on origin ({branch} "
            f"{'restored' if previous else 'deleted'}); nothing else changed."
        ) from None
    print(
        f"{'opened' if created else 'updated'} pull request #{pull['number']}: {pull.get('html_url', '')}"
    )
    return 0


def _unpush(branch: str, previous: str | None) -> None:
    if previous:
        git("push", "--force", "origin", f"{previous}:refs/heads/{branch}", check=False)
    else:
        git("push", "origin", "--delete", branch, check=False)
