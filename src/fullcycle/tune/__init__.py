"""`fullcycle tune`: hyper-parameter search with Optuna where every trial is a DVC experiment.

space.py reads the search space (conf/tune/), study.py holds the Optuna study (SQLite by default,
any SQLAlchemy URL to share it) and recovers after a kill, trial.py runs one trial as
`dvc exp run` (one per seed with `seeds: N`), search.py is the ask-run-tell loop, marks.py each
trial's interval and whether it is distinguishable from the best and the best from main, results.py
the table and plots.
"""
