"""Main's model on a candidate's labelled slice (`fullcycle label import`): the reference the
gate's retrain route compares the candidate with, from main's own predictions when it evaluated the
same slice, else by running main's model on it."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fullcycle.core import paths
from fullcycle.core.errors import FullcycleError
from fullcycle.core.evidence import Predictions
from fullcycle.lifecycle.experiments import EVAL_PREDICTIONS, Run

LABELLED_SLICE = "data/processed/test_labelled.parquet"


def main_on_slice(main: Run, candidate: Run, labelled: Predictions) -> Predictions:
    """Main's model on the candidate's labelled slice: from main's own predictions when it
    evaluated the same slice, else by running main's model (from DVC's cache or remote)."""
    recorded = main.predictions(EVAL_PREDICTIONS).get("labelled")
    if recorded is not None and recorded.split == labelled.split:
        return recorded
    import dvc.api
    import pandas as pd
    from dvc.api import DVCFileSystem

    from fullcycle.core.classifier import Classifier, split_predictions

    try:
        with dvc.api.open(LABELLED_SLICE, rev=candidate.rev, mode="rb") as f:
            held = pd.read_parquet(f)
        with tempfile.TemporaryDirectory(prefix="fullcycle-main-model-") as tmp:
            DVCFileSystem(".", rev=main.rev).get(paths.MODEL_DIR.as_posix(), tmp, recursive=True)
            # fsspec puts the folder's files in tmp, or in tmp/classifier when tmp exists
            found = list(Path(tmp).rglob("fullcycle.json"))
            model_dir = found[0].parent if found else Path(tmp)
            pred = split_predictions(Classifier(model_dir, device="cpu"), held)
    except Exception as exc:  # DVC raises many kinds for a missing cache or remote
        raise FullcycleError(
            f"cannot score main's model on the labelled slice ({exc}): `dvc pull` main's "
            "models/classifier (or push it to the DVC remote) and run promote again."
        ) from None
    if pred.split != labelled.split:
        raise FullcycleError(
            f"{LABELLED_SLICE} at {candidate.label} is not the slice its predictions were made on."
        )
    return pred
