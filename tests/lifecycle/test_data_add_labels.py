"""`fullcycle data add --labels/--on-conflict`: the same checks as `data validate`, and the choice
saved in conf/ so that `prepare` applies it too."""

from __future__ import annotations

import pandas as pd

from fullcycle.cli import main
from fullcycle.core import params
from fullcycle.data import prepare


def test_declared_label_without_rows_is_refused(bare, news_csv, capsys):
    head = bare.git("rev-parse", "HEAD")
    labels = "business,entertainment,politics,sport,tech"  # 'sport': the data says 'sports'
    assert main(["data", "add", str(news_csv), "--labels", labels]) == 2
    err = capsys.readouterr().err
    assert "label 'sports' on 40 rows" in err and "did you mean 'sport'?" in err
    assert "label 'sport' is declared (--labels / data.labels) but no valid row has it" in err
    assert bare.git("rev-parse", "HEAD") == head


def test_labels_and_conflict_policy_are_saved_for_prepare(bare, news_csv, tmp_path, capsys):
    table = pd.read_csv(news_csv)
    clash = table.iloc[[0]].assign(label="tech" if table.iloc[0]["label"] != "tech" else "sports")
    noisy = tmp_path / "noisy.csv"
    pd.concat([table, clash]).to_csv(noisy, index=False)
    labels = "business,entertainment,politics,sports,tech"
    assert main(["data", "add", str(noisy), "--labels", labels]) == 2
    assert "conflicting labels" in capsys.readouterr().err
    assert main(["data", "add", str(noisy), "--labels", labels, "--on-conflict", "drop"]) == 0
    cfg = params.load()
    assert cfg.data.on_conflict == "drop" and list(cfg.data.labels) == labels.split(",")
    assert main(["params", "--check"]) == 0
    summary = prepare.run(cfg)  # prepare resolves the conflict the way `data add` did
    assert summary["conflicts"]["dropped_texts"] == 1 and summary["rows"]["total"] == 199
