"""serve/archive.py: the exported bento is a function of its contents, not of when it was built
(or on which patch release of Python)."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

from fullcycle.serve import archive

BENTO_YAML = """\
service: fullcycle.serve.service:ClassifierService
name: fullcycle-classifier
version: 567137a0c372cdfe
# a comment BentoML never writes, kept anyway
creation_time: '2026-11-30T15:48:35.918902+00:00'
models:
- tag: fullcycle-classifier:567137a0c372cdfe
  creation_time: '2026-11-30T15:48:35.094472+00:00'
labels: {owner: "a: b"}
"""


def fake_bento(root: Path, built_at: float, yaml_text: str = BENTO_YAML) -> Path:
    (root / "src" / "fullcycle").mkdir(parents=True)
    (root / "bento.yaml").write_text(yaml_text)
    (root / "src" / "fullcycle" / "service.py").write_text("print('hi')\n")
    entry = root / "env" / "docker" / "entrypoint.sh"
    entry.parent.mkdir(parents=True)
    entry.write_text("#!/bin/sh\n")
    entry.chmod(0o755)
    for path in root.rglob("*"):
        os.utime(path, (built_at, built_at))
    return root


def test_two_builds_at_different_times_export_the_same_bytes(tmp_path):
    later = BENTO_YAML.replace("15:48:35", "18:01:02")
    fake_bento(tmp_path / "a", built_at=1_000_000_000)
    fake_bento(tmp_path / "b", built_at=1_700_000_000, yaml_text=later)
    archive.export(tmp_path / "a", tmp_path / "a.bento")
    archive.export(tmp_path / "b", tmp_path / "b.bento")
    assert (tmp_path / "a.bento").read_bytes() == (tmp_path / "b.bento").read_bytes()


def test_the_archive_keeps_everything_but_the_times(tmp_path):
    fake_bento(tmp_path / "a", built_at=1_000_000_000)
    archive.export(tmp_path / "a", tmp_path / "a.bento")
    with tarfile.open(tmp_path / "a.bento", "r:xz") as tar:  # BentoML's format: an xz tar
        names = tar.getnames()
        bento_yaml = tar.extractfile("./bento.yaml").read().decode()
        entry = tar.getmember("./env/docker/entrypoint.sh")
    assert names[0] == "." and "./src/fullcycle/service.py" in names
    assert entry.mode == 0o755 and entry.mtime == archive.FIXED_MTIME
    assert "2026" not in bento_yaml and bento_yaml.count(archive.FIXED_TIME) == 2
    assert "# a comment BentoML never writes, kept anyway" in bento_yaml
    assert "version: 567137a0c372cdfe" in bento_yaml and "a: b" in bento_yaml


def test_stable_yaml_changes_nothing_else():
    text = "name: x\nnested:\n- creation_time: '2020-01-01'\n  keep: 1\n"  # PyYAML's layout
    assert archive.stable_yaml(text) == text.replace("'2020-01-01'", f"'{archive.FIXED_TIME}'")


MODEL_YAML = """\
name: fullcycle-classifier
context:
  framework_name: ''
  bentoml_version: 1.4.39
  python_version: {python}
creation_time: '2026-11-30T15:48:35.094472+00:00'
"""


def test_a_model_saved_on_another_python_patch_release_exports_the_same_bytes(tmp_path):
    for name, python in (("a", "3.11.2"), ("b", "3.11.7")):
        bento = fake_bento(tmp_path / name, built_at=1_000_000_000)
        model = bento / "models" / "fullcycle-classifier" / "v1" / "model.yaml"
        model.parent.mkdir(parents=True)
        model.write_text(MODEL_YAML.format(python=python))
        archive.export(bento, tmp_path / f"{name}.bento")
    assert (tmp_path / "a.bento").read_bytes() == (tmp_path / "b.bento").read_bytes()
    with tarfile.open(tmp_path / "a.bento", "r:xz") as tar:
        text = tar.extractfile("./models/fullcycle-classifier/v1/model.yaml").read().decode()
    assert "python_version: '3.11'" in text and "bentoml_version: 1.4.39" in text
