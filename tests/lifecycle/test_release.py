"""`fullcycle release`: GTO version and stage tags for the model on main, pushed atomically."""

from __future__ import annotations

import contextlib
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from fullcycle.cli import main
from fullcycle.lifecycle import experiments, records
from tests.conftest import git


def merge_experiment(box, experiment: str = "good") -> None:
    """main with a trained model, as after merging a promotion PR (test_e2e does the real PR):
    the experiment's commit merged and pushed."""
    sha = experiments.find(experiment).rev
    box.git("merge", "-q", "--no-ff", sha, "-m", f"Merge experiment {experiment}")
    box.git("push", "-q", "origin", "main")


def origin_tags(box) -> list[str]:
    return sorted(box.origin_git("tag", "--list").split())


@pytest.fixture
def merged(sandbox):
    merge_experiment(sandbox)
    return sandbox


def test_release_registers_assigns_and_pushes(merged, capsys):
    assert main(["release", "--no-bento"]) == 0
    out = capsys.readouterr().out
    assert "registered classifier@v0.1.0: test.accuracy=" in out
    assert origin_tags(merged) == ["classifier#dev#1", "classifier@v0.1.0"]
    # an annotated tag on the merge commit whose message carries the metrics
    assert merged.git("cat-file", "-t", "classifier@v0.1.0") == "tag"
    assert merged.git("rev-parse", "classifier@v0.1.0^{commit}") == merged.git("rev-parse", "HEAD")
    message = merged.git("tag", "-l", "--format=%(contents)", "classifier@v0.1.0")
    assert "test.f1_macro" in records.trailer(records.RELEASE, message)

    # nothing changed: no new version, no new tag
    assert main(["release", "--no-bento"]) == 0
    out = capsys.readouterr().out
    assert "unchanged since classifier@v0.1.0" in out and "nothing new to push" in out
    # promote the same version to prod
    assert main(["release", "--no-bento", "--stage", "prod"]) == 0
    assert origin_tags(merged) == ["classifier#dev#1", "classifier#prod#2", "classifier@v0.1.0"]


def test_release_runs_only_on_main_with_a_clean_tree(merged, capsys):
    merged.git("checkout", "-q", "-b", "feature")
    assert main(["release", "--no-bento"]) != 0
    assert "release runs on 'main' (you are on feature)" in capsys.readouterr().err
    merged.git("checkout", "-q", "main")
    Path("dvc.yaml").write_text(Path("dvc.yaml").read_text() + "\n")
    assert main(["release", "--no-bento"]) != 0
    assert "uncommitted changes (dvc.yaml)" in capsys.readouterr().err
    assert origin_tags(merged) == []


def test_release_needs_a_declared_and_trained_model(sandbox, capsys):
    # main has data but was never trained: dvc.lock records no model
    assert main(["release", "--no-bento"]) != 0
    assert "records no output 'models/classifier'" in capsys.readouterr().err
    pipeline = yaml.safe_load(Path("dvc.yaml").read_text())
    del pipeline["artifacts"]
    Path("dvc.yaml").write_text(yaml.safe_dump(pipeline, sort_keys=False))
    sandbox.git("commit", "-qam", "no artifacts")
    assert main(["release", "--no-bento"]) != 0
    assert "declares no artifact 'classifier'" in capsys.readouterr().err
    assert sandbox.git("tag", "--list") == ""


def test_rejected_push_keeps_no_tags(merged, capsys):
    hook = merged.origin / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'tags are protected' >&2\nexit 1\n")
    hook.chmod(0o755)
    assert main(["release", "--no-bento"]) != 0
    err = capsys.readouterr().err
    assert "git push --atomic" in err and "tags are protected" in err
    assert merged.git("tag", "--list") == "" and origin_tags(merged) == []


def test_version_bumps(monkeypatch):
    from types import SimpleNamespace

    from fullcycle.lifecycle import release

    labels = {"old": '["a", "b"]', "same": '["a", "b"]', "new": '["a", "b", "c"]'}
    monkeypatch.setattr(release, "read_tracked", lambda path, rev: labels[rev])
    latest = SimpleNamespace(version="v0.3.1", commit_hexsha="old")
    assert release.next_version(None, "same", "auto") == "v0.1.0"
    assert release.next_version(latest, "same", "auto") == "v0.4.0"  # a new model: minor
    assert release.next_version(latest, "new", "auto") == "v1.0.0"  # labels changed: major
    assert release.next_version(latest, "same", "patch") == "v0.3.2"


def test_a_release_is_never_recorded_without_metrics(merged, capsys):
    merged.git("rm", "-q", "reports/eval/metrics.json")
    merged.git("commit", "-qm", "lose the metrics")
    assert main(["release", "--no-bento"]) == 2
    assert "reports/eval/metrics.json is not committed" in capsys.readouterr().err
    assert merged.git("tag", "--list") == "" and origin_tags(merged) == []


def test_read_tracked_fails_loudly_except_for_a_missing_file(sandbox):
    from fullcycle.core.errors import FullcycleError
    from fullcycle.lifecycle.gitutil import read_tracked

    assert read_tracked("no/such/file.json", "HEAD") is None
    with pytest.raises(FullcycleError, match="cannot read params.yaml at no-such-rev"):
        read_tracked("params.yaml", "no-such-rev")


def test_left_as_is_puts_outputs_back_byte_for_byte(tmp_path, monkeypatch):
    """What keeps `dvc status` clean after a release: the package stage's bento is moved aside
    and back (same bytes, same inode and mtime), and a path that was absent stays absent."""
    from fullcycle.lifecycle.release import left_as_is

    monkeypatch.chdir(tmp_path)
    bento = Path("bentos/classifier.bento")
    bento.parent.mkdir()
    bento.write_bytes(b"the package stage's bento")
    before = bento.stat()
    for failure in (False, True):
        with contextlib.suppress(KeyboardInterrupt), left_as_is([str(bento), "bentos/new.bento"]):
            bento.write_bytes(b"the release's bento")
            Path("bentos/new.bento").write_bytes(b"new")
            if failure:
                raise KeyboardInterrupt  # Ctrl-C half-way puts them back too
        after = bento.stat()
        assert bento.read_bytes() == b"the package stage's bento"
        assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
        assert sorted(p.name for p in bento.parent.iterdir()) == ["classifier.bento"]


def test_the_release_bento_leaves_the_package_stage_output_alone(tmp_path, monkeypatch, capsys):
    """build_bento runs the package stage's function under the release's version (which exports
    to the stage's output) and leaves that output as it was; it says where the release's bento
    is instead."""
    from fullcycle.lifecycle import release

    root = tmp_path / "repo"
    (root / "bentos").mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    pipeline = {"stages": {"package": {"cmd": "fullcycle package", "outs": ["bentos/x.bento"]}}}
    (root / "dvc.yaml").write_text(yaml.safe_dump(pipeline))
    (root / "bentofile.yaml").write_text("name: fullcycle-classifier\n")
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "project")
    (root / "bentos/x.bento").write_bytes(b"as dvc.lock records it")
    monkeypatch.chdir(root)

    def package_main(version: str) -> int:
        Path("bentos/x.bento").write_bytes(f"release {version}".encode())
        print("exported to bentos/x.bento")
        return 0

    fake = SimpleNamespace(package_model=package_main)
    monkeypatch.setattr(release.importlib, "import_module", lambda name: fake)
    monkeypatch.setattr(release, "dvc", lambda *args: "")  # HEAD's model is checked out
    monkeypatch.setattr(release, "dvc_remote", lambda: None)
    release.build_bento("models/classifier", "v0.2.0")
    assert (root / "bentos/x.bento").read_bytes() == b"as dvc.lock records it"
    out = capsys.readouterr().out
    assert "exported to" not in out
    assert "built bento fullcycle-classifier:v0.2.0" in out
    assert "bentos/x.bento left as dvc.lock records it" in out
