# fullcycle's own Makefile. The targets every fullcycle project has (setup, repro, test, lint,
# plan, lock, clean) come from the project template, included here so the two cannot drift
# apart; the two commands of the README are `make repro` (run the pipeline) and `make test` (the
# fast test suite: tiny models). The targets below build and measure fullcycle itself.

include src/fullcycle/template/project/Makefile

.PHONY: test-all bench

## the whole suite, with the `slow` tests that fine-tune the real model
test-all: setup
	$(BIN)/pytest -m ''

bench: setup
	$(BIN)/python bench/validate_scale.py
