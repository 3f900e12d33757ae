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

import yaml

from fullcycle.core import explain_summary as explain
from fullcycle.core import paths
from fullcycle.core.errors import FullcycleError
from fullcycle.lifecycle import conf, experiments, records
from fullcycle.lifecycle.experiments import (
    BASELINE_METRICS,
    EVAL_METRICS,
    OPTIMIZE_METRICS,
    Run,
)
from fullcycle.lifecycle.gate import Gate, check_gate
from fullcycle.lifecycle.github import GitHub, GitHubError, compare_url, repo_from_env
from fullcycle.lifecycle.gitutil import (
    commit_files,
    dirty_files,
    dvc,
    dvc_remote,
    git,
    git_ok,
    push_data,
    read_tracked,
    remote_ref,
    repo_root,
    require_remote,
    rev_parse,
    show_file,
)

MODEL_CARD = paths.MODEL_CARD.as_posix()
DVC_CONFIG = ".dvc/config"  # tracked; `dvc remote add --local` writes the untracked config.local
RECORD_DIR = paths.PROMOTION_DIR.as_posix()
MARKER = "<!-- fullcycle:promote -->"
DEFAULTS = {  # conf/promote/default.yaml's values, for a base branch whose params predate a key
    "metric": "test.f1_macro",
    "rule": "superior",
    "margin": 0.0,
    "confidence": 0.95,
    "baseline_margin": 0.0,
    "base": "main",
    "branch_prefix": "promote/",
    "artifact": "classifier",
    "release_stage": "dev",
}


NO_REMOTE = (
    "no default DVC remote: the PR's model and data must be pushed somewhere reviewers can pull "
    "from. Add yours with `dvc remote add --local -d NAME PATH_OR_URL` (untracked "
    ".dvc/config.local), or the team's with `dvc remote add -d NAME URL` and commit .dvc/config."
)


class Refused(FullcycleError):
    """The gate's verdict: this candidate is not promoted (exit 1, not an error)."""

    exit_code = 1


def settings(rev: str | None = None) -> dict[str, Any]:
    """The `promote` params committed at `rev` (the defaults where it has none), or those of the
    params.yaml here when no rev is given."""
    if rev:
        text = show_file(rev, "params.yaml") or ""
    else:
        try:
            text = open("params.yaml", encoding="utf-8").read()  # noqa: SIM115
        except OSError:
            text = ""
    section = (yaml.safe_load(text) or {}).get("promote") or {}
    return DEFAULTS | section


def remote_base() -> tuple[str, str, dict[str, Any]]:
    """(base branch, its sha on origin, the gate) read from origin after a fetch — never from the
    candidate or a local branch, so a candidate cannot loosen its own gate. `promote.base` is read
    from origin's default branch; the gate from the base branch it names."""
    require_remote("origin")
    head = git("ls-remote", "--symref", "origin", "HEAD")
    default = next(
        (
            ln.split()[1].removeprefix("refs/heads/")
            for ln in head.splitlines()
            if ln.startswith("ref:")
        ),
        DEFAULTS["base"],
    )
    base = str(settings(fetch_branch(default))["base"])
    base_sha = fetch_branch(base)
    return base, base_sha, settings(base_sha)


def fetch_branch(branch: str) -> str:
    """Fetch origin's `branch` into origin/<branch>; its sha."""
    if not git_ok("fetch", "-q", "origin", f"+refs/heads/{branch}:refs/remotes/origin/{branch}"):
        raise FullcycleError(
            f"cannot fetch branch '{branch}' from origin: promotion PRs target it (promote.base "
            "on origin's default branch). Push it first, or check `git remote -v`."
        )
    return rev_parse(f"refs/remotes/origin/{branch}") or ""


def require_clean_or_applied(exp: experiments.Run) -> None:
    """Uncommitted changes block promotion unless they are an experiment `dvc exp run` (or `dvc
    exp apply`) left in the workspace — its params.yaml, dvc.lock, metrics: promote builds its
    branch from the experiment's own commit, so those changes are neither lost nor needed. The
    refusal names only the files in the way: those that differ from the applied experiment (the
    run the workspace matches best), not the experiment's own outputs."""
    dirty = dirty_files()
    if not dirty:
        return
    in_way = files_in_the_way(exp.rev, dirty)
    if in_way:
        _, others = experiments.candidates("HEAD")  # another one may be the applied one
        for run in others:
            if run.rev != exp.rev:
                in_way = min(in_way, files_in_the_way(run.rev, dirty), key=len)
            if not in_way:
                break
    if in_way:
        raise FullcycleError(refusal(in_way))


def files_in_the_way(rev: str, dirty: list[str]) -> list[str]:
    """The uncommitted files whose content is not the one committed at `rev`."""
    return git("diff", "--name-only", "--no-renames", rev, "--", *dirty).splitlines()


def refusal(files: list[str]) -> str:
    """One line: which uncommitted files block promotion, and the command that clears them."""
    shown = ", ".join(files[:8]) + (f" and {len(files) - 8} more" if len(files) > 8 else "")
    text = (
        f"cannot promote: uncommitted changes in {shown} are not part of an experiment applied "
        "to the workspace."
    )
    if DVC_CONFIG in files:  # `dvc remote add -d` writes the tracked config: say both ways out
        text += (
            f" A DVC remote in {DVC_CONFIG} is the team's: commit it (`git commit -m 'DVC "
            f"remote' {DVC_CONFIG}`); or keep it yours alone: `git restore {DVC_CONFIG} && "
            "dvc remote add --local -d NAME URL` (writes the untracked .dvc/config.local)."
        )
        files = [f for f in files if f != DVC_CONFIG]
    if files:
        text += (
            f" Commit {'it' if len(files) == 1 else 'them'} (`git commit`) or put "
            f"{'it' if len(files) == 1 else 'them'} aside (`git stash`)."
        )
    return text + " Then run `fullcycle promote` again."


def conf_for(rev: str) -> dict[str, str]:
    """conf/ files rewritten so that they compose to the params.yaml committed at `rev` (an
    experiment's `-S` overrides written into conf/, comments kept): {path: new content}."""
    target = yaml.safe_load(show_file(rev, "params.yaml") or "") or {}
    with tempfile.TemporaryDirectory(prefix="fullcycle-conf-") as tmp:
        for path in git("ls-tree", "-r", "--name-only", rev, "--", "conf").splitlines():
            dest = Path(tmp) / path
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(show_file(rev, path) or "", encoding="utf-8")
        changed = conf.write_params(Path(tmp) / "conf", target)
        return {f"conf/{c}": (Path(tmp) / "conf" / c).read_text(encoding="utf-8") for c in changed}


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


def promote(args: argparse.Namespace) -> int:
    repo_root()
    base, base_sha, cfg = remote_base()  # the gate as committed on origin's base branch
    remote = dvc_remote()
    if not remote:
        raise FullcycleError(NO_REMOTE)
    metric = str(cfg["metric"])
    if args.experiment:
        exp = experiments.find(args.experiment)
        require_clean_or_applied(exp)
    else:
        exp, head = experiments.best(metric)
        if exp.rev == head.rev:
            raise Refused(
                f"HEAD ({head.rev[:7]}) has the best {metric} "
                f"{records.fmt(head.metric(metric))}: no experiment of it scores higher, so there "
                "is nothing better to promote. Name one to promote it anyway: "
                "`fullcycle promote NAME`."
            )
        require_clean_or_applied(exp)
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

    branch = f"{cfg['branch_prefix']}{name}"
    card = read_tracked(MODEL_CARD, exp.rev)
    record = records.Promotion(
        name, exp.rev[:12], metric, gate.candidate or 0.0, gate.main, gate.baseline
    )
    evidence = promotion_evidence(name, exp, exp_base, gate, base, base_sha)
    files = conf_for(exp.rev)  # conf/ composes to the promoted params.yaml
    files[f"{RECORD_DIR}/evidence.json"] = json.dumps(evidence, indent=2) + "\n"
    if card:
        files[f"{RECORD_DIR}/model_card.md"] = card
    sha = commit_files(exp.rev, files, record.message(f"Gate:\n{gate.table()}"))
    names = {base_sha: base, sha: branch}
    with ThreadPoolExecutor(2) as pool:  # two dvc processes: about half the wait
        params_md, metrics_md = pool.map(
            lambda kind: diff_table(kind, base_sha, sha, names), ("params", "metrics")
        )
    title = f"Promote {name}: {metric} {records.fmt(gate.candidate)}, {gate.headline()}"
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
        raise FullcycleError(f"{exc}\n{_unpush(branch, previous)}") from None
    print(
        f"{'opened' if created else 'updated'} pull request #{pull['number']}: {pull.get('html_url', '')}"
    )
    return 0


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
