"""What the libraries print: Lightning's banners and transformers' bars, for every step that
trains (train, and optimize's pruning fine-tune)."""

from __future__ import annotations

import logging


def quiet() -> None:
    """Lightning logs its device banner and tips at INFO: show them only with `fullcycle -v`.
    Lightning's own progress bar stays on a terminal (plain lines elsewhere: build_trainer);
    transformers' "Writing model shards" bar goes."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    if logging.getLogger().getEffectiveLevel() > logging.INFO:
        logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
