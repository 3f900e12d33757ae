"""`fullcycle init DIR`: a new project repository, rendered from fullcycle's template with copier.

The data is checked first (the checks and errors of `fullcycle data validate`); then the project is
built in a hidden folder next to DIR: the template rendered (copier, from the store's tagged
version), git and DVC initialised, the data file copied to data/raw/ and tracked by DVC, params.yaml
composed from conf/, requirements.lock pinned to this environment, and one first commit. Only a
complete project is moved to DIR; any failure removes the hidden folder, so nothing half-made is
left. The project depends on fullcycle (pyproject.toml): no fullcycle source is copied into it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import fullcycle
from fullcycle.core import paths
from fullcycle.core.errors import FullcycleError
from fullcycle.project import store
from fullcycle.project.data import DataFile, check_data

EXAMPLES = ("bbc",)


@dataclass
class Answers:
    """What copier asks (src/fullcycle/template/copier.yml), filled in from the command line."""

    project_name: str
    example: str = ""
    data_file: str = "data.csv"
    text_col: str = "text"
    label_col: str = "label"
    fullcycle_requirement: str = field(default_factory=lambda: requirement())
    fullcycle_source: bool = False

    def data(self) -> dict[str, Any]:
        return dict(self.__dict__)


def requirement() -> str:
    """How this project names its fullcycle: the local checkout it is installed from, if any
    (`fullcycle @ file:///...`), else the released version from the package index."""
    try:
        direct = metadata.distribution("fullcycle").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        direct = None
    url = json.loads(direct).get("url", "") if direct else ""
    if url.startswith("file://"):
        return f"fullcycle @ {url}"
    return f"fullcycle=={fullcycle.__version__}"


def cli_init(args: argparse.Namespace) -> int:
    if args.update:
        from fullcycle.project.update import update_project

        return update_project(Path.cwd(), template_repo=args.template_repo)
    if not args.dir:
        raise FullcycleError("give the new project's folder: fullcycle init DIR --data FILE ...")
    target = Path(args.dir)
    if args.example and args.example not in EXAMPLES:
        raise FullcycleError(
            f"--example {args.example}: no such example (there is: {', '.join(EXAMPLES)})."
        )
    if bool(args.example) == bool(args.data):
        raise FullcycleError("give either --data FILE (your labelled texts) or --example bbc.")
    check_target(target)
    data = check_data(args) if args.data else None
    answers = Answers(project_name=target.resolve().name, example=args.example or "")
    if data is not None:
        answers.data_file = data.name
        answers.text_col, answers.label_col = data.text_col, data.label_col
    if args.requirement:
        answers.fullcycle_requirement = args.requirement
    init_project(target, answers, data, edits=plan_edits(args))
    return 0


# `init`'s planning flags: which conf/ file and key each one sets (unset flags keep the template's).
PLAN_FLAGS = {
    "goal_metric": ("conf/plan/default.yaml", "goal.metric"),
    "goal_target": ("conf/plan/default.yaml", "goal.target"),
    "train_minutes": ("conf/plan/default.yaml", "budget.train_minutes"),
    "gpu": ("conf/plan/default.yaml", "budget.gpu"),
    "gate_rule": ("conf/promote/default.yaml", "rule"),
    "gate_margin": ("conf/promote/default.yaml", "margin"),
}


def plan_edits(args: argparse.Namespace) -> dict[tuple[str, str], Any]:
    """The plan given on the command line, as (conf file, dotted key) -> value."""
    return {
        where: getattr(args, flag)
        for flag, where in PLAN_FLAGS.items()
        if getattr(args, flag, None) is not None
    }


def check_target(target: Path) -> None:
    """DIR must be new (or an empty folder) in a folder that exists and can be written."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise FullcycleError(
            f"{target} already exists and is not an empty folder: give a new folder's name "
            "(to update a project made by `fullcycle init`, run `fullcycle init --update` in it)."
        )
    parent = target.resolve().parent
    if not parent.is_dir():
        raise FullcycleError(f"{parent} does not exist: create it first, or give another DIR.")


def init_project(
    target: Path,
    answers: Answers,
    data: DataFile | None,
    tag: str | None = None,
    edits: dict[tuple[str, str], Any] | None = None,
) -> Path:
    """Build the project next to `target` from the template version `tag` (this fullcycle's by
    default), with conf/ `edits` (the plan), then move it there whole. Returns the project path."""
    tag = tag or store.ensure_version()
    parent = target.resolve().parent
    try:
        work = Path(tempfile.mkdtemp(prefix=f".{target.name}.init-", dir=parent))
    except OSError as exc:
        raise FullcycleError(f"cannot write in {parent}: {exc.strerror}.") from None
    try:
        build(work, answers, data, tag, edits or {})
        if target.is_dir():
            target.rmdir()  # empty (checked): the finished project takes its place
        os.rename(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    print_done(target, answers, tag)
    return target


def build(
    work: Path, answers: Answers, data: DataFile | None, tag: str, edits: dict[tuple[str, str], Any]
) -> None:
    from copier import run_copy

    from fullcycle.core import params
    from fullcycle.lifecycle import conf
    from fullcycle.lifecycle.data_add import point_conf_at
    from fullcycle.lifecycle.gitutil import dvc, git

    run_copy(
        store.store_location(),
        str(work),
        data=answers.data(),
        vcs_ref=tag,
        defaults=True,
        overwrite=True,
        quiet=True,
    )
    git("init", "--quiet", "-b", "main", cwd=work)  # DVC's own files came with the template
    with contextlib.chdir(work):
        for (file, key), value in edits.items():
            conf.set_value(Path(file), key, value)
        if data is None:
            params.write()  # checks the plan against the schema, too
        else:
            shutil.copyfile(data.path, paths.RAW_DIR / data.name)
            dvc("add", "--quiet", str(paths.RAW_DIR / data.name))
            # as `fullcycle data add` does; it writes params.yaml (checked) too
            point_conf_at(paths.RAW_DIR / data.name, labels=data.labels, **data.settings())
    (work / "requirements.lock").write_text(lock_text(), encoding="utf-8")
    git("add", "--all", cwd=work)
    git("commit", "--quiet", "-m", first_message(answers, data, tag), cwd=work)


def first_message(answers: Answers, data: DataFile | None, tag: str) -> str:
    what = "BBC News (the example)" if data is None else f"{data.path.name}: {data.summary}"
    return (
        f"Start {answers.project_name} from fullcycle's template {tag}\n\n"
        f"data: {what}\n"
        f"fullcycle: {answers.fullcycle_requirement}\n"
    )


LOCK_HEADER = (
    "# Exact versions of the whole stack, as `fullcycle init` found them installed (pip check them\n"
    "# with `make setup`). Installed as a constraints file: pip install -c requirements.lock -e '.[dev]'\n"
    "# Regenerate with: make lock\n"
)
NOT_PINNED = {"pip", "setuptools", "wheel", "distribute", "fullcycle"}


def lock_text() -> str:
    """requirements.lock: every distribution of the environment fullcycle runs in, pinned, as
    `pip freeze` writes it (a local build tag such as torch's `+cpu` dropped: the index has none)."""
    pins = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if not name or name.lower() in NOT_PINNED or _editable(dist):
            continue
        pins[name.lower()] = f"{name}=={dist.version.split('+')[0]}"
    return LOCK_HEADER + "".join(f"{pins[k]}\n" for k in sorted(pins))


def _editable(dist: metadata.Distribution) -> bool:
    direct = dist.read_text("direct_url.json")
    return bool(direct) and json.loads(direct).get("dir_info", {}).get("editable", False)


def print_done(target: Path, answers: Answers, tag: str) -> None:
    print(
        f"created {target} (fullcycle's template {tag}; one commit on main).\n"
        f"Its two commands, from {target}:\n"
        "  make repro     # the pipeline (creates .venv first)\n"
        "  make test      # the project's own tests\n"
        "Then `make plan` to estimate train and repro times here, and push it to a remote of yours:\n"
        "  git remote add origin URL && git push -u origin main"
    )
