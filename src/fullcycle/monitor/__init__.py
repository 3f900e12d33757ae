"""Drift monitoring: are the texts the model sees now still like the ones it was trained on?

`stage` is the `fullcycle monitor` command; `inputs` reads and scores the reference and current
texts; `descriptors` computes per-text features offline; `checks` runs them all in one Evidently
report and turns each score into a verdict a CI gate can trust (`verdicts`).
"""
