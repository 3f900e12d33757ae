"""The data version a person sees is DVC's hash (issue 10, item 4): what dvc.lock and .dvc files
record, computed with DVC's own hashing; the commit is stamped when a model is packaged."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from fullcycle.core import provenance
from fullcycle.serve.model import model_card

from ..conftest import git, run


def dvc_repo(root: Path) -> Path:
    (root / "data" / "processed").mkdir(parents=True)
    (root / "data" / "raw").mkdir()
    (root / "data" / "processed" / "train.parquet").write_bytes(b"PAR1 rows")
    (root / "data" / "processed" / "labels.json").write_text('["a", "b"]\n')
    (root / "data" / "raw" / "reviews.csv").write_text("text,label\nfine,a\n")
    git(root, "init", "-q", "-b", "main")
    run(root, "dvc", "init", "-q")
    run(root, "dvc", "add", "-q", "data/processed", "data/raw/reviews.csv")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "data")
    return root


def dvc_file_md5(path: Path) -> str:
    return yaml.safe_load(path.read_text())["outs"][0]["md5"]


def test_hashes_are_dvcs_own_and_the_commit_is_stamped_at_package_time(tmp_path):
    root = dvc_repo(tmp_path / "repo")
    processed = dvc_file_md5(root / "data/processed.dvc")
    assert provenance.dvc_md5(root / "data/processed") == processed and processed.endswith(".dir")
    assert provenance.dvc_md5(root / "data/raw/reviews.csv") == dvc_file_md5(
        root / "data/raw/reviews.csv.dvc"
    )
    raw = provenance.raw_data({"source": "file", "path": "data/raw/reviews.csv"}, root)
    assert raw == {
        "path": "data/raw/reviews.csv",
        "md5": dvc_file_md5(root / "data/raw/reviews.csv.dvc"),
        "dvc_file": "data/raw/reviews.csv.dvc",
    }
    assert provenance.raw_data({"source": "bbc", "path": None}, root) is None

    # /metadata and the model store card: the model's record (DVC's hash), the raw file's .dvc
    # hash from the project's params, and the commit checked out now
    model = root / "models" / "classifier"
    model.mkdir(parents=True)
    meta = {"labels": ["a", "b"], "max_length": 8, "data": {"md5": processed}}
    (model / "fullcycle.json").write_text(json.dumps(meta))
    from fullcycle.core import params

    overrides = ["data=file", "data.path=data/raw/reviews.csv"]  # params.yaml: conf/, whole
    params.write(root / "params.yaml", Path(__file__).resolve().parents[2] / "conf", overrides)
    card = model_card(model, project=root)
    assert card["data_hash"] == processed
    assert card["raw_data"] == raw
    assert card["git_commit"] == git(root, "rev-parse", "HEAD")


def test_an_older_models_own_hash_gives_way_to_dvc_lock(tmp_path):
    root = tmp_path / "project"
    model = root / "models" / "classifier"
    model.mkdir(parents=True)
    meta = {"labels": ["a"], "max_length": 8, "data": {"md5": "9811b470"}, "git_commit": "old"}
    (model / "fullcycle.json").write_text(json.dumps(meta))
    lock = {"schema": "2.0", "stages": {"prepare": {"outs": [
        {"path": "data/processed", "hash": "md5", "md5": "ca1b3b8a.dir"}]}}}  # fmt: skip
    (root / "dvc.lock").write_text(yaml.safe_dump(lock))
    card = model_card(model, project=root)
    assert card["data_hash"] == "ca1b3b8a.dir"
    assert "git_commit" not in card and "old" not in json.dumps(card)  # no commit to stamp here
