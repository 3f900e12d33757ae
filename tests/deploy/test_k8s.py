"""deploy/k8s: every manifest passes kubernetes-validate's strict schemas offline (the schemas ship
in its wheel), a misspelt field fails it, and the manifests agree with the service: the probes
BentoML serves, the port and the environment variables conf/serve/default.yaml documents."""

from __future__ import annotations

import copy
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes_validate import utils as kv

from fullcycle.serve import settings
from tests.conftest import REPO
from tests.serve.serve_conf import serve_settings

K8S = REPO / "deploy" / "k8s"
KUSTOMIZATION = "kustomization.yaml"  # kustomize's own file: no Kubernetes API schema
# An older cluster and the newest schemas kubernetes-validate (pinned in pyproject.toml) bundles.
K8S_VERSIONS = ("1.30.0", "1.37.0")
KV = Path(sys.executable).parent / "kubernetes-validate"


def manifests() -> list[Path]:
    return sorted(p for p in K8S.glob("*.yaml") if p.name != KUSTOMIZATION)


def resources() -> dict[str, dict[str, Any]]:
    """kind -> the resource (one resource per file, so pre-commit's check-yaml reads each)."""
    found = {}
    for path in manifests():
        docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
        assert len(docs) == 1, f"{path.name}: one resource per file"
        assert docs[0]["kind"] not in found, f"two {docs[0]['kind']}s"
        found[docs[0]["kind"]] = docs[0]
    return found


def validate(resource: dict[str, Any]) -> None:
    """Strict: an unknown field anywhere is an error. A kind or apiVersion with no schema (a typo,
    or an API the cluster lacks) is an error too (the CLI only warns about it)."""
    for version in K8S_VERSIONS:
        try:
            kv.validate(resource, version, strict=True)
        except kv.SchemaNotFoundError as exc:
            raise AssertionError(exc.message) from None


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection attempt fails the test: validation must need no network."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access during validation: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture(scope="module")
def k8s() -> dict[str, dict[str, Any]]:
    return resources()


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return only


@pytest.mark.parametrize("path", manifests(), ids=lambda p: p.name)
def test_every_manifest_passes_strict_validation_offline(path, offline):
    (resource,) = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    validate(resource)


def test_the_manifests_are_the_expected_set(k8s):
    assert set(k8s) == {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"}
    assert k8s["HorizontalPodAutoscaler"]["apiVersion"] == "autoscaling/v2"


def test_the_kustomization_applies_every_manifest_with_the_deployments_image(k8s):
    kustomization = yaml.safe_load((K8S / KUSTOMIZATION).read_text(encoding="utf-8"))
    assert sorted(kustomization["resources"]) == [p.name for p in manifests()]
    (image,) = kustomization["images"]
    assert container(k8s["Deployment"])["image"].split(":")[0] == image["name"]
    assert image["newName"].endswith("/fullcycle-classifier") and image["newTag"]


def _rename(mapping: dict[str, Any], old: str, new: str) -> None:
    mapping[new] = mapping.pop(old)


MISTAKES = {  # what is broken -> what the validator says
    "readinesProbe": (
        lambda d: _rename(container(d), "readinessProbe", "readinesProbe"),
        "'readinesProbe' was unexpected",
    ),
    "perodSeconds": (
        lambda d: _rename(container(d)["livenessProbe"], "periodSeconds", "perodSeconds"),
        "'perodSeconds' was unexpected",
    ),
    "port as a string": (
        lambda d: container(d)["ports"][0].update(containerPort="3000"),
        "'3000' is not of type 'integer'",
    ),
    "misspelt kind": (
        lambda d: d.update(kind="Deploymnet"),
        "Couldn't find schema for kind Deploymnet",
    ),
}


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_a_broken_manifest_is_rejected(k8s, mistake, offline):
    broken = copy.deepcopy(k8s["Deployment"])
    breaks, message = MISTAKES[mistake]
    breaks(broken)
    with pytest.raises((kv.ValidationError, AssertionError), match=message):
        validate(broken)


def test_the_cli_the_pre_commit_hook_runs_fails_on_a_misspelt_field(k8s, tmp_path):
    broken = copy.deepcopy(k8s["Deployment"])
    MISTAKES["readinesProbe"][0](broken)
    path = tmp_path / "deployment.yaml"
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    args = [str(KV), "--strict", "--quiet", *(f"--kubernetes-version={v}" for v in K8S_VERSIONS)]
    done = subprocess.run([*args, str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "'readinesProbe' was unexpected" in done.stdout
    good = subprocess.run(
        [*args, *map(str, manifests())], capture_output=True, text=True, timeout=120
    )
    assert good.returncode == 0, good.stdout + good.stderr


def test_the_pre_commit_hook_pins_the_same_validator_and_versions():
    import kubernetes_validate

    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = {h["id"]: h for repo in config["repos"] for h in repo["hooks"]}
    hook = hooks["kubernetes-validate"]
    assert hook["additional_dependencies"] == [
        f"kubernetes-validate=={kubernetes_validate.__version__}"
    ]
    entry = hook["entry"].split()
    assert entry[0] == "kubernetes-validate" and "--strict" in entry
    versions = [a.split("=", 1)[1] for a in entry if a.startswith("--kubernetes-version=")]
    assert versions == list(K8S_VERSIONS)
    assert hook["files"] == r"^deploy/k8s/.*\.yaml$"
    assert hook["exclude"] == r"^deploy/k8s/kustomization\.yaml$"
    lock = (REPO / "requirements.lock").read_text(encoding="utf-8").splitlines()
    assert f"kubernetes-validate=={kubernetes_validate.__version__}" in lock


def test_the_probes_and_ports_are_the_ones_bentoml_serves(k8s):
    port = yaml.safe_load((REPO / "conf" / "serve" / "default.yaml").read_text())["port"]
    spec = container(k8s["Deployment"])
    named = {p["name"]: p["containerPort"] for p in spec["ports"]}
    assert named == {"http": port}
    probes = {
        name: (spec[name]["httpGet"]["path"], spec[name]["httpGet"]["port"])
        for name in ("startupProbe", "livenessProbe", "readinessProbe")
    }
    assert probes == {
        "startupProbe": ("/livez", "http"),
        "livenessProbe": ("/livez", "http"),
        "readinessProbe": ("/readyz", "http"),
    }
    # generous for a model load: at least two minutes before the kubelet gives up on a start
    startup = spec["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 120
    annotations = k8s["Deployment"]["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] == "/metrics"
    assert annotations["prometheus.io/port"] == str(port)
    (service_port,) = k8s["Service"]["spec"]["ports"]
    assert service_port["targetPort"] == "http"


def test_the_probes_and_metrics_need_no_api_key():
    from fullcycle.serve.guard import PUBLIC_PATHS

    assert {"/livez", "/readyz", "/metrics"} <= PUBLIC_PATHS


def test_selectors_and_targets_match(k8s):
    deployment = k8s["Deployment"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    for selector in (
        deployment["spec"]["selector"]["matchLabels"],
        k8s["Service"]["spec"]["selector"],
        k8s["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"],
    ):
        assert selector.items() <= pod_labels.items()
    target = k8s["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    assert "replicas" not in deployment["spec"]  # the HPA owns the count
    hpa = k8s["HorizontalPodAutoscaler"]["spec"]
    assert hpa["minReplicas"] >= 2 and hpa["maxReplicas"] > hpa["minReplicas"]
    (metric,) = hpa["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert k8s["PodDisruptionBudget"]["spec"]["minAvailable"] < hpa["minReplicas"]


def test_the_environment_is_what_the_service_reads(k8s):
    spec = container(k8s["Deployment"])
    env = {e["name"]: e for e in spec["env"]}
    fullcycle_vars = {name for name in env if name.startswith("FULLCYCLE_")}
    known = set(settings.ENV_OVERRIDES) | {settings.API_KEY_ENV}
    assert fullcycle_vars <= known, f"not read by the service: {fullcycle_vars - known}"
    assert env["FULLCYCLE_SERVE_RUNTIME"]["value"] in settings.RUNTIMES
    key = env[settings.API_KEY_ENV]
    assert "value" not in key  # never in a file: from a Secret, optional
    assert key["valueFrom"]["secretKeyRef"]["optional"] is True
    # torch and ONNX Runtime get as many threads as the CPU limit
    assert env["OMP_NUM_THREADS"]["valueFrom"]["resourceFieldRef"]["resource"] == "limits.cpu"
    resources = spec["resources"]
    assert resources["requests"]["memory"] and resources["limits"]["memory"]
    # requests in flight (serve.timeout_s) may finish after SIGTERM
    grace = k8s["Deployment"]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace > serve_settings().timeout_s
