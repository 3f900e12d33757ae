"""params.yaml: what every stage reads, composed from the Hydra groups in conf/.

`dvc exp run` composes conf/ into params.yaml itself (hydra.enabled); `dvc repro` reads the committed
params.yaml as it is. `fullcycle params` writes the same composition, so the two never disagree.
Stages never use `@hydra.main`: it would silently ignore `dvc exp run -S` overrides.
Every read is checked against the typed schema of conf/ (schema.py, schema_release.py, checked by
schema_check.py): a bad key or value is one error naming it, before any work. The values a
step reads are the file's own (a DictConfig), never a copy the schema coerced.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from fullcycle.core.errors import FullcycleError

PARAMS_FILE = "params.yaml"
CONF_DIR = "conf"

_run_params: dict[str, Any] | None = None  # set by `overrides()` for one run


@contextlib.contextmanager
def overrides(values: Sequence[str]) -> Iterator[None]:
    """For this run only, `load()` gives conf/ composed with the Hydra overrides `values` instead
    of params.yaml (which is not touched). Errors in an override, a value the schema refuses
    included, surface here, before any work."""
    global _run_params
    before = _run_params
    if values:
        composed = compose(CONF_DIR, list(values))
        check(composed, f"{CONF_DIR}/ with {' '.join(values)}")
    _run_params = composed if values else before
    try:
        yield
    finally:
        _run_params = before


def load(path: str | os.PathLike[str] = PARAMS_FILE) -> DictConfig:
    """Load params.yaml (or this run's overridden composition, see `overrides`), with a clear
    error when it is missing, not YAML, or holds a key or value the schema (schema.py) refuses.
    The sections it has are checked; `section()` says when one a step needs is missing."""
    if _run_params is not None and Path(path) == Path(PARAMS_FILE):
        return OmegaConf.create(_run_params)
    path = Path(path)
    if not path.is_file():
        raise FullcycleError(
            f"{path} not found in {Path.cwd()}: run fullcycle from the project root "
            "(where dvc.yaml is), or create it with `fullcycle params`."
        )
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FullcycleError(f"cannot read {path}: {exc}") from None
    return load_text(text, str(path))


def load_text(text: str, where: str, sections: Sequence[str] | None = None) -> DictConfig:
    """A params.yaml's text (e.g. `git show REV:params.yaml`), parsed and checked: every section
    it has, or only `sections` (those a reader needs: another revision's file may hold sections
    this code reads differently). `where` names it in errors."""
    try:
        cfg = OmegaConf.load(io.StringIO(text))  # what OmegaConf.load(path) gives, exactly
    except (OmegaConfBaseException, yaml.YAMLError, ValueError, OSError) as exc:
        raise FullcycleError(f"{where} is not valid YAML: {exc}") from None
    if not isinstance(cfg, DictConfig):
        raise FullcycleError(f"{where} must hold a mapping of sections (data:, model:, ...).")
    try:
        values = OmegaConf.to_container(cfg, resolve=True)
    except OmegaConfBaseException as exc:
        raise FullcycleError(f"{where}: {exc}") from None
    check(values, where, sections)  # type: ignore[arg-type]
    return cfg


def check(values: dict[str, Any], where: str, sections: Sequence[str] | None = None) -> None:
    """One FullcycleError naming every key or value of `values` the schema refuses."""
    from fullcycle.core import schema_check  # pydantic: only once params are read

    schema_check.check(values, where, sections)


def section(cfg: DictConfig, name: str, where: str = PARAMS_FILE) -> DictConfig:
    """One top-level section of the params, with an error naming the missing key."""
    if name not in cfg:
        raise FullcycleError(
            f"{where} has no '{name}' section. Regenerate it from conf/ with `fullcycle params`."
        )
    return cfg[name]


def compose(
    conf_dir: str | os.PathLike[str] = CONF_DIR, overrides: list[str] | None = None
) -> dict[str, Any]:
    """Compose conf/config.yaml (plus Hydra overrides) exactly as `dvc exp run` does."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.errors import HydraException

    conf_dir = Path(conf_dir).resolve()
    if not (conf_dir / "config.yaml").is_file():
        raise FullcycleError(f"{conf_dir}/config.yaml not found: is this a fullcycle project root?")
    try:
        with initialize_config_dir(str(conf_dir), version_base=None):
            cfg = hydra_compose(config_name="config", overrides=list(overrides or []))
        OmegaConf.resolve(cfg)
    except (HydraException, OmegaConfBaseException) as exc:
        raise FullcycleError(f"cannot compose {conf_dir}: {exc}") from None
    return OmegaConf.to_container(cfg)  # type: ignore[return-value]


def write(
    output: str | os.PathLike[str] = PARAMS_FILE,
    conf_dir: str | os.PathLike[str] = CONF_DIR,
    overrides: list[str] | None = None,
) -> None:
    """Write the composition to params.yaml in DVC's own format (OmegaConf.to_yaml), once the
    schema accepts it (a bad value in conf/ is named here, not by the first stage that reads it)."""
    from fullcycle.core.io import write_text

    composed = compose(conf_dir, overrides)
    where = f"{Path(conf_dir).as_posix()}/" + (f" with {' '.join(overrides)}" if overrides else "")
    check(composed, where)
    write_text(output, OmegaConf.to_yaml(OmegaConf.create(composed)))


def cli_params(args) -> int:
    """`fullcycle params [OVERRIDES] [--check]`."""
    if args.check:
        current = load(PARAMS_FILE)
        if OmegaConf.to_container(current) != compose(CONF_DIR, args.overrides):
            print(f"{PARAMS_FILE} differs from conf/: run `fullcycle params` and commit it.")
            return 1
        print(f"{PARAMS_FILE} matches conf/.")
        return 0
    write(PARAMS_FILE, CONF_DIR, args.overrides)
    print(f"wrote {PARAMS_FILE} from {CONF_DIR}/")
    return 0
