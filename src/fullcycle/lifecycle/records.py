"""The grammar of lifecycle records in git: one place defines it, `history` and the writers share it.

Each event is written where git keeps it anyway, as a `Key: k=v k=v` trailer line:
- a data version: the commit made by `fullcycle data add` (trailer `Fullcycle-Data`),
- a promotion: the commit made by `fullcycle promote` on the PR branch (`Fullcycle-Promotion`),
- a release: the annotated GTO tag `classifier@vX.Y.Z`, whose message carries `Fullcycle-Release`.
Stage assignments are GTO's own `classifier#prod#N` tags; their metrics are those of the version.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

DATA = "Fullcycle-Data"
PROMOTION = "Fullcycle-Promotion"
RELEASE = "Fullcycle-Release"
TRAFFIC = "Fullcycle-Traffic"  # `fullcycle traffic snapshot` (a versioned batch of served texts)
LABELS = "Fullcycle-Labels"  # `fullcycle label import` (labelled rows merged into the data)


def format_fields(fields: dict[str, object]) -> str:
    """k=v pairs separated by spaces; values never contain spaces (None is written as `none`)."""
    return " ".join(
        f"{k}={'none' if v is None else str(v).replace(' ', '_')}" for k, v in fields.items()
    )


def parse_fields(text: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in text.split() if "=" in part)


def trailer(key: str, message: str) -> dict[str, str] | None:
    """The fields of the last `key:` trailer line in a commit or tag message, if any."""
    found = re.findall(rf"(?m)^{re.escape(key)}:[ \t]*(.*)$", message)
    return parse_fields(found[-1]) if found else None


def commit_message(summary: str, body: str, key: str, fields: dict[str, object]) -> str:
    """A commit message that ends with the `key:` trailer line `history` reads back."""
    return f"{summary}\n\n{body}\n\n{key}: {format_fields(fields)}\n"


def fmt(value: float | None, digits: int = 4) -> str:
    if value is None:
        return "—"
    return (
        str(int(value)) if float(value).is_integer() and abs(value) >= 1 else f"{value:.{digits}f}"
    )


@dataclass
class DataVersion:
    path: str
    rows: int
    classes: int
    md5: str

    def summary(self) -> str:
        name = self.path.rsplit("/", 1)[-1]
        return f"data: {name} — {self.rows} rows, {self.classes} classes, md5 {self.md5[:8]}"

    def message(self, body: str = "") -> str:
        return commit_message(self.summary(), body, DATA, asdict(self))


@dataclass
class Promotion:
    experiment: str
    rev: str
    metric: str
    candidate: float
    main: float | None
    baseline: float | None

    def summary(self) -> str:
        return f"promote: experiment {self.experiment} ({self.metric} {fmt(self.candidate)})"

    def message(self, body: str = "") -> str:
        return commit_message(self.summary(), body, PROMOTION, asdict(self))


@dataclass
class Release:
    artifact: str
    version: str
    metrics: dict[str, float] = field(default_factory=dict)

    def message(self) -> str:
        return (
            f"Registering artifact {self.artifact} version {self.version}\n\n"
            f"{RELEASE}: {format_fields(self.metrics)}\n"
        )


def number(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "none") else None
    except ValueError:
        return None


@dataclass
class TrafficSnapshot:
    path: str
    rows: int
    start: str  # time of the first and last row (UTC, ISO 8601)
    to: str
    models: str  # model version(s) that served them, comma-separated

    def summary(self) -> str:
        name = self.path.rsplit("/", 1)[-1]
        return (
            f"traffic: {name} — {self.rows} rows, {self.start[:16]} to {self.to[:16]} UTC, "
            f"model {self.models}"
        )

    def message(self, body: str = "") -> str:
        return commit_message(self.summary(), body, TRAFFIC, asdict(self))


@dataclass
class LabelImport:
    source: str  # the file the labels came from
    path: str  # the DVC-tracked raw file they were merged as
    rows: int
    md5: str
    new_labels: str = "none"  # labels the project did not have before (comma-separated)

    def summary(self) -> str:
        return f"labels: {self.rows} rows from {self.source.rsplit('/', 1)[-1]}"

    def message(self, body: str = "") -> str:
        return commit_message(self.summary(), body, LABELS, asdict(self))
