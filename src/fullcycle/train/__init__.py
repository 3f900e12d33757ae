"""The `train` stage: fine-tune a transformers classifier with Lightning (see stage.py).

datamodule.py batches the processed splits (dynamic padding, length buckets), module.py wraps the
transformers model (loss, validation macro-F1, AdamW with linear warmup/decay), checkpoints.py makes
an interrupted run resumable, stage.py ties them together and writes models/classifier/.
"""
