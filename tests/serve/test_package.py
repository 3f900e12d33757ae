"""`fullcycle package` in a real project: model store, bento, .bento archive; then a teammate's
fresh BentoML home imports the archive and serves it with `bentoml serve <tag>`."""

from __future__ import annotations

import os
import re
import subprocess
import tarfile
from pathlib import Path

import httpx
import pytest

from fullcycle.core import params
from fullcycle.core.classifier import read_meta
from fullcycle.core.errors import FullcycleError
from fullcycle.serve import launch, package
from tests.conftest import REPO, SMALL, git, make_project, run

from .conftest import LABELS, METRICS, serve_project


@pytest.fixture(scope="module")
def packaged(
    tmp_path_factory: pytest.TempPathFactory, trained_model: Path, optimized_model: Path
) -> Path:
    root = make_project(tmp_path_factory.mktemp("package") / "project", SMALL)
    serve_project(root, trained_model, optimized_model)
    done = run(root, "fullcycle", "package")
    assert "exported to bentos/classifier.bento" in done.stdout
    return root


def test_archive_holds_the_model_and_only_the_code(packaged):
    with tarfile.open(packaged / "bentos" / "classifier.bento") as archive:
        names = [n.removeprefix("./") for n in archive.getnames()]
    assert any(
        re.fullmatch(r"models/fullcycle-classifier/[0-9a-f]{16}/model\.safetensors", n)
        for n in names
    )
    assert any(  # the optimize stage's variant, served by the default runtime (onnx)
        re.fullmatch(r"models/fullcycle-classifier-onnx/[0-9a-f]{16}/model\.onnx", n) for n in names
    )
    assert "src/fullcycle/serve/service.py" in names
    shipped = [n for n in names if n.startswith("src/") and n != "src/bentofile.yaml"]
    assert all(n.startswith("src/fullcycle") for n in shipped), shipped
    assert not [
        n for n in names if re.search(r"(^|/)(data|tests|__pycache__|\.dvc|reports)(/|$)", n)
    ]


def test_a_fresh_bentoml_home_imports_and_serves_the_archive(packaged, tmp_path):
    home = {"BENTOML_HOME": str(tmp_path / "teammate")}
    env = {**os.environ, **home}
    imported = subprocess.run(
        ["bentoml", "import", str(packaged / "bentos" / "classifier.bento")],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    tag = re.search(r'tag="([^"]+)"', imported.stdout).group(1)
    assert tag.startswith("fullcycle-classifier:")
    with launch.serving(tag, cwd=tmp_path, env=home, log_path=tmp_path / "server.log") as server:
        metadata = httpx.get(f"{server.url}/metadata").json()
        predictions = httpx.post(f"{server.url}/classify", json={"texts": ["a", "b"]}).json()
    meta = metadata["model"]
    assert metadata["runtime"]["name"] == "onnx" and metadata["runtime"]["variant"] == "int8"
    assert metadata["runtime"]["source_version"] == meta["version"]
    assert meta["source"] == "model store" and meta["name"].startswith("fullcycle-classifier:")
    assert meta["metrics"] == METRICS and meta["labels"] == LABELS
    assert "git_commit" not in meta  # a DVC output: stamped by a release, not by the stage
    trained = read_meta(packaged / "models" / "classifier")["data"]
    assert meta["data_hash"] == trained["md5"] and meta["data_hash"].endswith(".dir")  # DVC's
    assert [p["label"] in LABELS for p in predictions] == [True, True]


def test_the_model_store_entry_carries_the_model_card(packaged):
    import bentoml

    stored = bentoml.models.get("fullcycle-classifier:latest")
    card = stored.info.metadata
    assert card["metrics"] == METRICS and card["labels"] == LABELS
    assert card["data_hash"] and card["params"] and "git_commit" not in card
    assert stored.tag.version == card["version"]


def test_the_bento_version_is_the_models_so_packaging_twice_gives_the_same_tag(packaged):
    import bentoml

    model = bentoml.models.get("fullcycle-classifier:latest")
    archive = packaged / "bentos" / "classifier.bento"
    first = archive.read_bytes()
    again = run(packaged, "fullcycle", "package")
    assert f"as bento fullcycle-classifier:{model.tag.version}," in again.stdout
    versions = [b.tag.version for b in bentoml.bentos.list("fullcycle-classifier")]
    assert versions.count(model.tag.version) == 1
    assert archive.read_bytes() == first  # rebuilt a second later: the same bytes (dvc.lock too)


def test_a_release_version_names_the_bento_and_rebuilding_it_replaces_it(
    packaged, monkeypatch, capsys
):
    import bentoml

    monkeypatch.chdir(packaged)
    for _ in range(2):  # the same release packaged again (a re-run workflow) must not fail
        assert package.package_model(version="v9.9.9") == 0
        assert "as bento fullcycle-classifier:v9.9.9," in capsys.readouterr().out
    assert [b.tag.version for b in bentoml.bentos.list("fullcycle-classifier")].count("v9.9.9") == 1
    released = bentoml.bentos.get("fullcycle-classifier:v9.9.9")
    tags = [m.tag for m in released.info.all_models if m.tag.name == "fullcycle-classifier"]
    model = bentoml.models.get(tags[0])  # a release stamps its commit
    assert model.info.metadata["git_commit"] == git(packaged, "rev-parse", "HEAD")
    assert model.info.labels["git_commit"] == git(packaged, "rev-parse", "HEAD")[:12]


def test_package_without_an_evaluated_model_says_what_to_run(project, trained_model):
    done = run(project, "fullcycle", "package", check=False)
    assert (
        done.returncode == 2 and "fullcycle train" in done.stderr and "Traceback" not in done.stderr
    )
    serve_project(project, trained_model, runtime="onnx")  # no models/optimized
    with pytest.raises(FullcycleError, match="models/optimized/manifest.json not found"):
        package.package_model()
    params.write(project / "params.yaml", project / "conf", [*SMALL, "serve.runtime=torch"])
    metrics = project / "reports" / "eval" / "metrics.json"
    metrics.unlink()
    with pytest.raises(FullcycleError, match="fullcycle evaluate"):
        package.package_model()
    metrics.write_text("{not json")
    with pytest.raises(FullcycleError, match="metrics.json is not valid JSON"):
        package.package_model()
    assert not (project / "bentos").exists()


def test_dvc_stage_declares_its_inputs_and_output():
    import yaml

    stage = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]["package"]
    assert stage["cmd"] == "fullcycle package"
    assert {
        "models/classifier",
        "models/optimized",
        "reports/eval/metrics.json",
        "bentofile.yaml",
    } <= set(stage["deps"])
    assert stage["outs"] == ["bentos/classifier.bento"]
    assert stage["params"] == ["serve"]
    # every module the bento ships is a dependency, and nothing else of src/ is
    code = {d for d in stage["deps"] if d.startswith("src/")}
    assert code == {f"src/fullcycle/{name}" for name in package.SHIPPED}


def _module(base: Path, parts: list[str]) -> bool:
    path = base.joinpath(*parts)
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def test_the_shipped_modules_import_only_each_other(tmp_path):
    """The bento holds SHIPPED only: any `fullcycle.*` import in it (lazy ones too) must resolve
    inside it, or the served bento fails where the source tree works."""
    import ast

    source, root = REPO / "src" / "fullcycle", tmp_path / "src" / "fullcycle"
    package.stage_code(root)
    missing = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            for name in names:
                first, *parts = name.split(".")
                if first != "fullcycle":
                    continue
                # the longest prefix that is a module in the source tree must be in the bento
                k = max(k for k in range(len(parts) + 1) if _module(source, parts[:k]))
                if not _module(root, parts[:k]):
                    missing.append(f"{path.relative_to(root)}: {name}")
    assert missing == [], "the bento would lack: " + ", ".join(missing)


def test_the_bentos_dockerfile_pins_the_services_packages_and_serves_the_bento(packaged):
    """What `bentoml containerize` builds from (env/docker/Dockerfile inside the bento): the base
    image, the requirements it installs (the packages bentofile.yaml lists and bentoml, each
    admitting requirements.lock's version; their own dependencies are resolved when the image is
    built), the entry point, and the user and port deploy/k8s/deployment.yaml relies on. No image
    is built here (no container daemon on these machines): this reads the files it is built from."""
    import yaml
    from packaging.requirements import Requirement

    with tarfile.open(packaged / "bentos" / "classifier.bento") as archive:
        files = {
            n.removeprefix("./"): archive.extractfile(n).read().decode()
            for n in archive.getnames()
            if n.removeprefix("./").startswith("env/") and archive.getmember(n).isfile()
        }
    dockerfile = files["env/docker/Dockerfile"]
    # bentofile.yaml sets no docker options: BentoML's debian default for the building Python,
    # the 3.11 the project is pinned and tested on
    assert re.findall(r"^FROM (\S+)", dockerfile, re.M) == ["python:3.11-slim"]
    assert re.search(r"pip install -r \$BENTO_PATH/env/python/requirements\.txt", dockerfile)
    lock = dict(
        line.split("==")
        for line in (REPO / "requirements.lock").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    lock = {name.lower().replace("_", "-"): version for name, version in lock.items()}
    wanted = yaml.safe_load((REPO / "bentofile.yaml").read_text())["python"]["packages"]
    required = {}
    for line in files["env/python/requirements.txt"].splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            requirement = Requirement(line)
            required[requirement.name.lower().replace("_", "-")] = requirement
    # every package bentofile.yaml lists, plus BentoML itself, and each admits the locked version
    assert {Requirement(w).name.lower() for w in wanted} | {"bentoml"} <= set(required)
    for name, requirement in required.items():
        assert lock[name] in requirement.specifier, (
            f"{requirement} excludes the lock's {lock[name]}"
        )
    for name in ("bentoml", "torch", "transformers", "onnxruntime", "captum"):  # exact pins
        assert str(required[name].specifier) == f"=={lock[name]}"
    # the entry point serves the bento: `bentoml serve $BENTO_PATH`, on BentoML's default port
    # 3000, which must stay serve.port (the image does not read params; deploy/k8s uses it)
    port = yaml.safe_load((REPO / "conf" / "serve" / "default.yaml").read_text())["port"]
    (entrypoint,) = re.findall(r"^ENTRYPOINT \[ \"([^\"]+)\" \]$", dockerfile, re.M)
    assert entrypoint == "/home/bentoml/bento/env/docker/entrypoint.sh"
    assert 'set -- bentoml serve "$@" "$BENTO_PATH"' in files["env/docker/entrypoint.sh"]
    assert f"EXPOSE {port}" in dockerfile.splitlines()
    deployment = yaml.safe_load((REPO / "deploy" / "k8s" / "deployment.yaml").read_text())
    pod = deployment["spec"]["template"]["spec"]
    uid = re.search(r"^ARG BENTO_USER_UID=(\d+)$", dockerfile, re.M).group(1)
    assert re.search(r"^USER bentoml$", dockerfile, re.M)
    assert pod["securityContext"]["runAsUser"] == int(uid)
    assert pod["containers"][0]["ports"][0]["containerPort"] == port
