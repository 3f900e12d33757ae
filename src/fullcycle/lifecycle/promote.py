"""`fullcycle promote [EXP]`: an experiment becomes a pull request carrying its evidence.

Order matters so that nothing is pushed half-way: every check (clean tree, the gate, both remotes,
the GitHub token) runs before anything is written; the branch commit is built with git plumbing
(the working tree is untouched); data is pushed before the git branch that points at it; and if
GitHub then refuses the PR, the pushed branch is put back as it was.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from fullcycle.core import explain_summary as explain
from fullcycle.core import params, paths
from fullcycle.core.errors import FullcycleError
from fullcycle.lifecycle import conf, experiments, records
from fullcycle.lifecycle.experiments import (
    BASELINE_METRICS,
    EVAL_METRICS,
    OPTIMIZE_METRICS,
    Run,
)
from fullcycle.lifecycle.gate import Gate, check_gate
from fullcycle.lifecycle.gate_settings import diff_table
from fullcycle.lifecycle.github import GitHub, GitHubError, compare_url, repo_from_env
from fullcycle.lifecycle.gitutil import (
    commit_files,
    dvc_remote,
    git,
    git_ok,
    push_data,
    read_tracked,
    remote_ref,
    repo_root,
    show_file,
)
from fullcycle.lifecycle.promote_checks import remote_base, require_clean_or_applied

MODEL_CARD = paths.MODEL_CARD.as_posix()
RECORD_DIR = paths.PROMOTION_DIR.as_posix()
MARKER = "<!-- fullcycle:promote -->"

NO_REMOTE = (
    "no default DVC remote: the PR's model and data must be pushed somewhere reviewers can pull "
    "from. Add yours with `dvc remote add --local -d NAME PATH_OR_URL` (untracked "
    ".dvc/config.local), or the team's with `dvc remote add -d NAME URL` and commit .dvc/config."
)


class Refused(FullcycleError):
    """The gate's verdict: this candidate is not promoted (exit 1, not an error)."""

    exit_code = 1


def conf_for(rev: str) -> dict[str, str]:
    """conf/ files rewritten so that they compose to the params.yaml committed at `rev` (an
    experiment's `-S` overrides written into conf/, comments kept): {path: new content}."""
    where = f"params.yaml at {rev[:7]}"
    target = OmegaConf.to_container(params.load_text(show_file(rev, "params.yaml") or "", where))
    with tempfile.TemporaryDirectory(prefix="fullcycle-conf-") as tmp:
        for path in git("ls-tree", "-r", "--name-only", rev, "--", "conf").splitlines():
            dest = Path(tmp) / path
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(show_file(rev, path) or "", encoding="utf-8")
        changed = conf.write_params(Path(tmp) / "conf", target)
        return {f"conf/{c}": (Path(tmp) / "conf" / c).read_text(encoding="utf-8") for c in changed}


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
        "gate": gate.summary(),
        "params_changed": experiments.changed_params(exp, exp_base),
        "metrics": {
            path: exp.metrics.get(path)
            for path in (EVAL_METRICS, BASELINE_METRICS, OPTIMIZE_METRICS)
        },
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


def cli_promote(args: argparse.Namespace) -> int:
    """`fullcycle promote [EXP]`: check everything, build the branch commit, push, open the PR."""
    repo_root()
    base, base_sha, cfg = remote_base()  # the gate as committed on origin's base branch
    remote = dvc_remote()
    if not remote:
        raise FullcycleError(NO_REMOTE)
    metric = cfg.metric
    exp = candidate(args.experiment, metric)
    exp_base = experiments.Run(rev=exp.baseline) if exp.baseline else None
    name = exp.name or exp.rev[:7]
    gate = check_gate(exp, experiments.Run(rev=base_sha, name=base), cfg)
    print(f"candidate: experiment {exp.label}, gate from origin/{base}\n{gate.table()}")
    if not gate.passed:
        raise Refused(
            f"experiment {exp.label} does not pass the promotion gate: "
            f"{gate.failure()}. Nothing was pushed."
        )

    # Everything that can refuse is asked before anything is written or pushed.
    github = GitHub.from_env()
    if github:
        github.check_access()

    branch = f"{cfg.branch_prefix}{name}"
    card = read_tracked(MODEL_CARD, exp.rev)
    evidence = promotion_evidence(name, exp, exp_base, gate, base, base_sha)
    sha = branch_commit(name, exp, gate, metric, evidence, card)
    title = f"Promote {name}: {metric} {records.fmt(gate.candidate)}, {gate.headline()}"
    body = describe(exp, gate, base, base_sha, branch, sha, card)

    previous = push_branch(exp, branch, sha, remote)
    if github is None:
        print_unsent(title, branch, base, body)
        return 0
    try:
        pull, created = github.upsert_pull(branch, base, title, body)
    except GitHubError as exc:
        raise FullcycleError(f"{exc}\n{_unpush(branch, previous)}") from None
    print(
        f"{'opened' if created else 'updated'} pull request #{pull['number']}: {pull.get('html_url', '')}"
    )
    return 0


def candidate(experiment: str | None, metric: str) -> Run:
    """The experiment named, or (none named) the one that scores best on `metric`: refused when
    that is HEAD itself. Uncommitted changes in the way refuse either."""
    if experiment:
        exp = experiments.find(experiment)
        require_clean_or_applied(exp)
        return exp
    exp, head = experiments.best(metric)
    if exp.rev == head.rev:
        raise Refused(
            f"HEAD ({head.rev[:7]}) has the best {metric} "
            f"{records.fmt(head.metric(metric))}: no experiment of it scores higher, so there "
            "is nothing better to promote. Name one to promote it anyway: "
            "`fullcycle promote NAME`."
        )
    require_clean_or_applied(exp)
    return exp


def branch_commit(
    name: str, exp: Run, gate: Gate, metric: str, evidence: dict[str, Any], card: str | None
) -> str:
    """The PR branch's commit on top of the experiment's (git plumbing: the working tree is
    untouched): conf/ composing to its params.yaml, the evidence and model card under
    reports/promotion/, a `records` trailer. Its sha."""
    record = records.Promotion(
        name, exp.rev[:12], metric, gate.candidate or 0.0, gate.main, gate.baseline
    )
    files = conf_for(exp.rev)  # conf/ composes to the promoted params.yaml
    files[f"{RECORD_DIR}/evidence.json"] = json.dumps(evidence, indent=2) + "\n"
    if card:
        files[f"{RECORD_DIR}/model_card.md"] = card
    return commit_files(exp.rev, files, record.message(f"Gate:\n{gate.table()}"))


def describe(
    exp: Run, gate: Gate, base: str, base_sha: str, branch: str, sha: str, card: str | None
) -> str:
    """The PR's body: the gate, the params and metrics diffs (base -> the branch's commit `sha`),
    the model card and what changed in the explanations."""
    names = {base_sha: base, sha: branch}
    with ThreadPoolExecutor(2) as pool:  # two dvc processes: about half the wait
        params_md, metrics_md = pool.map(
            lambda kind: diff_table(kind, base_sha, sha, names), ("params", "metrics")
        )
    explain_md = explain.pr_section(
        explain.load(show_file(base_sha, str(explain.SUMMARY))),
        explain.load(show_file(exp.rev, str(explain.SUMMARY))),
        base,
    )
    return pr_body(exp, gate, base, params_md, metrics_md, card, explain_md)


def push_branch(exp: Run, branch: str, sha: str, remote: str) -> str | None:
    """Push the experiment's data to the DVC remote, then the branch to origin; the sha origin's
    branch had before (None: it had none), for putting it back."""
    pushed = push_data([exp.rev], remote)
    previous = remote_ref(f"refs/heads/{branch}")
    git("update-ref", f"refs/heads/{branch}", sha)
    git("push", "--force", "origin", f"{sha}:refs/heads/{branch}")
    print(
        f"pushed branch {branch} ({sha[:7]}) to origin and {pushed} file(s) to DVC remote '{remote}'"
    )
    return previous


def _unpush(branch: str, previous: str | None) -> str:
    """Put origin's branch back as it was; says truthfully whether that worked."""
    if previous:
        ok = git_ok("push", "--force", "origin", f"{previous}:refs/heads/{branch}")
        done, undo = "restored", f"git push --force origin {previous}:refs/heads/{branch}"
    else:
        ok = git_ok("push", "origin", "--delete", branch)
        done, undo = "deleted", f"git push origin --delete {branch}"
    if ok:
        return f"The branch push was undone on origin ({branch} {done}); nothing else changed."
    return (
        f"Undoing the branch push FAILED: origin still has {branch} as pushed. "
        f"Undo it by hand with `{undo}`, or run `fullcycle promote` again."
    )
