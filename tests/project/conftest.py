"""Projects made by `fullcycle init`, as a new user makes them: a labelled CSV that is not BBC,
rendered into a new git repository through the real copier and a real template store."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from tests.lifecycle.conftest import github  # noqa: F401 (the GitHub stand-in, a fixture)

TEAMS = {
    "billing": ["invoice", "refund", "charge", "payment", "card", "subscription", "price"],
    "shipping": ["parcel", "delivery", "courier", "tracking", "address", "late", "warehouse"],
    "account": ["password", "login", "email", "profile", "username", "reset", "locked"],
}
FILLER = ["please", "help", "my", "the", "is", "not", "working", "since", "again", "order"]


def tickets_csv(path: Path, per_team: int = 50, seed: int = 0) -> Path:
    """Support tickets routed to a team: columns `message` and `team`, three classes."""
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["message", "team"])
        for team, words in TEAMS.items():
            for i in range(per_team):
                n = rng.randint(8, 40)
                body = " ".join(
                    rng.choice(words if rng.random() < 0.35 else FILLER) for _ in range(n)
                )
                out.writerow([f"Ticket {i}: {body}", team])
    return path


@pytest.fixture(autouse=True)
def template_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test its own store of template versions (never the user's ~/.cache)."""
    store = tmp_path / "template-store"
    monkeypatch.setenv("FULLCYCLE_TEMPLATE_STORE", str(store))
    return store


@pytest.fixture
def tickets(tmp_path: Path) -> Path:
    return tickets_csv(tmp_path / "tickets.csv")
