"""`fullcycle package`: the trained model, its evidence and the service, as one versioned artifact.

1. save models/classifier into the BentoML model store (name serve.model_name, version = hash of
   the model's bytes) with its model card: test metrics, params, and its provenance (DVC's data
   hashes as dvc.lock and the raw data's .dvc file record them; a release adds its git commit); and
   models/optimized (the optimize stage's variant, served by ONNX Runtime) as `<name>-onnx`;
2. build a bento from bentofile.yaml in a staged build context that holds only the modules the
   service needs (SHIPPED, which the package stage lists as its deps; no data, tests or caches can
   slip in), recording the model and the serve settings as build arguments, so the bento serves
   exactly this model with these limits. Its version is the model's (the hash of its bytes: the
   same model packaged twice is the same bento tag, rebuilt in place), or the release's
   (`fullcycle release` passes e.g. v0.2.0, so the bento carries the registry version);
3. export it to serve.bento_path (bentos/classifier.bento, a DVC output), byte for byte the same
   for the same inputs (serve/archive.py). A teammate runs
   `bentoml import bentos/classifier.bento` then `bentoml serve fullcycle-classifier:<version>`.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path
from typing import Any

import fullcycle
from fullcycle.core.errors import FullcycleError
from fullcycle.core.io import atomic_path
from fullcycle.core.provenance import content_version
from fullcycle.optimize.onnx_model import read_manifest
from fullcycle.serve import archive
from fullcycle.serve.model import METRICS_FILE, model_card
from fullcycle.serve.runtime import check_source
from fullcycle.serve.settings import ServeSettings, from_mapping, from_params

BENTOFILE = Path("bentofile.yaml")
# What the bento ships of src/fullcycle: the service and what it imports. dvc.yaml's package stage
# lists each as a dependency (a test keeps the two, and the imports, in step).
SHIPPED = (
    "__init__.py",
    "core/__init__.py",
    "core/classifier.py",
    "core/model_meta.py",  # fullcycle.json, which classifier.py reads and writes
    "core/windows.py",  # how classifier.py and onnx_model.py cut a text into windows
    "core/errors.py",
    "core/evidence.py",  # classifier.split_predictions' types; numpy only at import
    "core/io.py",
    "core/params.py",
    "core/paths.py",
    "core/provenance.py",
    "core/schema.py",  # the serve settings' schema, and what it stands on
    "core/schema_check.py",
    "core/schema_release.py",
    # POST /explain: the endpoint and its attributions, not the explain stage
    "explain/__init__.py",
    "explain/serving.py",
    "explain/attribute.py",
    # the ONNX Runtime model of the served variant, not the optimize stage
    "optimize/__init__.py",
    "optimize/onnx_model.py",
    "serve",
)


def save_model(model_dir: Path, name: str, card: dict[str, Any]):
    """Store the model (replacing a stored copy of the same bytes, so its card is current)."""
    import bentoml
    from bentoml.exceptions import NotFound

    tag = f"{name}:{card['version']}"
    with contextlib.suppress(NotFound):
        bentoml.models.delete(tag)
    labels = {"project": "fullcycle"}
    if card.get("git_commit"):  # a release's bento: the commit it was cut from
        labels["git_commit"] = str(card["git_commit"])[:12]
    with bentoml.models.create(tag, labels=labels, metadata=card) as stored:
        shutil.copytree(model_dir, stored.path, dirs_exist_ok=True)
    return stored.tag


def save_optimized(optimized_dir: Path, name: str, source_version: str):
    """Store models/optimized (the optimize stage's variant) as `<name>-onnx:<hash of its bytes>`,
    after checking it was built from the model being packaged."""
    import bentoml
    from bentoml.exceptions import NotFound

    manifest = read_manifest(optimized_dir)
    check_source(manifest, optimized_dir, source_version)
    tag = f"{name}-onnx:{content_version(optimized_dir)}"
    with contextlib.suppress(NotFound):
        bentoml.models.delete(tag)
    with bentoml.models.create(tag, labels={"project": "fullcycle"}, metadata=manifest) as stored:
        shutil.copytree(optimized_dir, stored.path, dirs_exist_ok=True)
    return stored.tag


def build_bento(
    model_tag: Any,
    serve: ServeSettings,
    bentofile: Path = BENTOFILE,
    version: str | None = None,
    onnx_tag: Any = None,
):
    """Build from a staged context: bentofile.yaml plus the fullcycle package now running.
    With `version`, a bento already stored under that tag is replaced (same release, rebuilt)."""
    import bentoml
    import yaml
    from bentoml.exceptions import NotFound

    if not bentofile.is_file():
        raise FullcycleError(f"{bentofile} not found: package from the project root.")
    if version:
        name = (yaml.safe_load(bentofile.read_text(encoding="utf-8")) or {}).get("name")
        with contextlib.suppress(NotFound):
            bentoml.bentos.delete(f"{name}:{version}")
    with tempfile.TemporaryDirectory(prefix="fullcycle-bento-") as staging:
        stage_code(Path(staging, "src", "fullcycle"))
        shutil.copy(bentofile, Path(staging, "bentofile.yaml"))
        return bentoml.bentos.build_bentofile(
            str(Path(staging, "bentofile.yaml")),
            build_ctx=staging,
            version=version,
            args={
                "model_tag": str(model_tag),
                "serve": serve.to_dict(),
                **({"onnx_model_tag": str(onnx_tag)} if onnx_tag else {}),
            },
            reload=True,  # the service reads its build arguments at import
        )


def stage_code(target: Path) -> None:
    """Copy the SHIPPED modules of the running fullcycle package into `target` (no bytecode)."""
    package_dir = Path(fullcycle.__file__).parent
    target.mkdir(parents=True)
    for name in SHIPPED:
        source = package_dir / name
        if source.is_dir():
            shutil.copytree(
                source, target / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        else:
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def package_model(version: str | None = None) -> int:
    """Package models/classifier; `version` names the bento (default: the model's version, the
    hash of its bytes, so packaging the same model again gives the same tag)."""
    values, where = from_params()
    serve = from_mapping(values, where)  # no env overrides: DVC must reproduce this
    model_dir = Path(serve.model_dir)
    card = model_card(model_dir, project=".", metrics_path=METRICS_FILE)
    if not version:  # the package stage's bento is a DVC output: a function of its inputs only.
        card.pop("git_commit", None)  # A release (`version`) stamps the commit it is cut from.
    if "metrics" not in card:
        raise FullcycleError(
            f"{METRICS_FILE} not found: package only an evaluated model. Run `fullcycle evaluate` "
            "(or `dvc repro`) first."
        )
    optimized = Path(serve.optimized_dir)
    pack_onnx = serve.runtime == "onnx" or optimized.is_dir()  # torch packs it too if there
    if pack_onnx:  # check before storing anything
        check_source(read_manifest(optimized), optimized, card["version"])
    from bentoml.exceptions import BentoMLException

    try:
        model_tag = save_model(model_dir, serve.model_name, card)
        onnx_tag = None
        if pack_onnx:
            onnx_tag = save_optimized(optimized, serve.model_name, card["version"])
        bento = build_bento(
            model_tag, serve, version=version or str(card["version"]), onnx_tag=onnx_tag
        )
        with atomic_path(serve.bento_path) as tmp:
            archive.export_bento(bento, tmp)  # same model, code and settings: same bytes
    except BentoMLException as exc:
        raise FullcycleError(f"packaging {model_dir} failed in BentoML: {exc}") from None
    print(
        f"packaged model {model_tag}"
        + (f" and its optimised variant {onnx_tag}" if onnx_tag else "")
        + f" as bento {bento.tag}, exported to {serve.bento_path}\n"
        f"serve it: bentoml serve {bento.tag}   (elsewhere: bentoml import {serve.bento_path})"
    )
    return 0
