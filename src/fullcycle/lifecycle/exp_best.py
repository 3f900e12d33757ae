"""`fullcycle exp best`: the winner among HEAD's committed run and its experiments, and whether its
lead over HEAD and the runners-up is beyond noise (paired comparisons on the same texts).

fullcycle.lifecycle.experiments finds and ranks the runs and pairs their predictions; this module
says what it found.
"""

from __future__ import annotations

import argparse
import json

from fullcycle.lifecycle.experiments import (
    BETTER,
    DEFAULT_METRIC,
    changed_params,
    headline,
    ranking,
    versus,
)


def cli_exp_best(args: argparse.Namespace) -> int:
    """`fullcycle exp best [--metric M] [--lower] [--json]`: the winner, and whether its lead
    over HEAD and the runners-up is beyond noise (paired comparisons on the same texts)."""
    metric = args.metric or DEFAULT_METRIC
    ranked, head = ranking(metric, args.lower)
    winner = ranked[0]
    is_head = winner.rev == head.rev
    changed = {} if is_head else changed_params(winner, head)
    vs_head = None if is_head else versus(head, winner, metric)
    close = [r for r in ranked[1:10] if (d := versus(r, winner, metric)) and d.verdict != BETTER]
    if args.json:
        d = vs_head
        print(
            json.dumps(
                {
                    "name": winner.name,
                    "rev": winner.rev,
                    "is_head": is_head,
                    "metric": metric,
                    "value": winner.metric(metric),
                    "baseline_rev": head.rev,
                    "vs_head": None
                    if d is None
                    else {"difference": d.diff, "interval": [d.low, d.high], "verdict": d.verdict},
                    "not_distinguishable": [r.name or r.rev for r in close],
                    "params_changed": changed,
                    "metrics": winner.metrics,
                },
                indent=2,
            )
        )
        return 0
    value = winner.metric(metric)
    if is_head:
        print(
            f"HEAD ({head.rev[:7]}) has the best {metric} = {value:.4f}: no experiment scores "
            "higher, so there is nothing better to promote."
        )
    else:
        print(f"best experiment: {winner.label} with {metric} = {value:.4f}", end="")
        head_value = head.metric(metric)
        print(f" (HEAD {head_value:.4f})" if head_value is not None else " (HEAD has none)")
        if vs_head is not None:
            print(f"vs HEAD, paired on the same texts: {vs_head.words()}")
    if close:
        names = ", ".join(r.name or r.rev[:7] for r in close)
        print(f"not distinguishable from it (paired, 95%): {names}")
    if is_head:
        return 0
    print("params changed vs HEAD:" if changed else "params: unchanged")
    for key, val in sorted(changed.items()):
        print(f"  {key} = {val}")
    for file, tree in sorted(winner.metrics.items()):
        flat = headline(tree)
        if flat:
            print(f"{file}: " + ", ".join(f"{k} {v:g}" for k, v in flat.items()))
    print(f"compare any two: fullcycle exp diff {head.rev[:7]} {winner.name or winner.rev[:7]}")
    print(f"promote it with: fullcycle promote {winner.name or winner.rev[:7]}")
    return 0
