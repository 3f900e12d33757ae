"""`fullcycle plan`: the project's goal and compute budget (conf/plan/), and what this machine
will spend on `train`, a tune study and `dvc repro`, measured on a few batches of the project's data."""
