"""`fullcycle params`: declared here, next to params.py (Hydra and OmegaConf load when it runs)."""

from __future__ import annotations


def register(add, stage, command) -> None:
    p = add("params", command("fullcycle.core.params:cli_params"), "compose conf/ into params.yaml")
    p.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. model=tiny train.lr=3e-5")
    p.add_argument("--check", action="store_true", help="exit 1 if params.yaml differs from conf/")
