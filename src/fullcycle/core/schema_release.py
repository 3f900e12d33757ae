"""The schema of the groups on the way to serving: the optimize and promote gates, the service,
the plan (goal and compute budget), and the tuner's search settings (conf/tune/, which is not part
of params.yaml). See schema.py."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import ConfigDict, Field, field_validator, model_validator

from fullcycle.core.schema import (
    Confidence,
    Count,
    Fraction,
    Group,
    Name,
    NonNegative,
    Positive,
    Runtime,
    Variant,
)

BYTES_PER_CHAR = 6  # a character's longest usual JSON form: \uXXXX


class Promote(Group):
    """conf/promote/default.yaml: the promotion gate and release tagging."""

    conf: ClassVar[str] = "conf/promote/default.yaml"
    metric: Literal["test.accuracy", "test.f1_macro"]  # the gate compares test predictions
    rule: Literal["superior", "non_inferior"]
    margin: NonNegative
    confidence: Confidence
    baseline_margin: float  # a test setup may set it below 0
    base: Name
    branch_prefix: Name
    artifact: Name
    release_stage: Literal["dev", "prod"]


class Goal(Group):
    """plan.goal (conf/plan/default.yaml): the number the project is for."""

    conf: ClassVar[str] = "conf/plan/default.yaml"
    metric: Literal["test.accuracy", "test.f1_macro"]  # as promote.metric: in reports/eval/
    target: Annotated[float, Field(gt=0, le=1)]


class Budget(Group):
    """plan.budget (conf/plan/default.yaml): what a train and a tune study may spend."""

    conf: ClassVar[str] = "conf/plan/default.yaml"
    train_minutes: Positive
    gpu: bool
    tune_space: Annotated[str, Field(pattern=r"^[\w-]+$")]  # conf/tune/<name>.yaml
    tune_trials: Count | None  # null: the space's own


class Measure(Group):
    """plan.measure (conf/plan/default.yaml): how `fullcycle plan` times this machine."""

    conf: ClassVar[str] = "conf/plan/default.yaml"
    warmup_steps: Annotated[int, Field(ge=0, le=20)]
    steps: Annotated[int, Field(ge=1, le=50)]
    inference_batches: Annotated[int, Field(ge=1, le=50)]
    sample_texts: Annotated[int, Field(ge=100)]


class Plan(Group):
    """conf/plan/default.yaml: the goal and the compute budget (`fullcycle plan`; no stage)."""

    conf: ClassVar[str] = "conf/plan/default.yaml"
    goal: Goal
    budget: Budget
    measure: Measure


class Prune(Group):
    """optimize.prune (conf/optimize/default.yaml): structured pruning + a short re-fine-tune."""

    conf: ClassVar[str] = "conf/optimize/default.yaml"
    enabled: bool
    heads_fraction: Annotated[float, Field(gt=0, lt=1)]
    ffn_fraction: Fraction
    steps: Count
    batch_size: Count
    lr: Positive
    distill: Annotated[float, Field(ge=0, le=1)]
    temperature: Positive


class Optimize(Group):
    """conf/optimize/default.yaml: the serving variants and the gate that picks one."""

    conf: ClassVar[str] = "conf/optimize/default.yaml"
    preference: Annotated[list[Variant], Field(min_length=1)]  # distinct, fastest first
    confidence: Confidence
    margin: Fraction
    opset: Count
    batch_size: Count
    prune: Prune

    @field_validator("preference")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("lists a variant twice")
        return value


class Serve(Group):
    """conf/serve/default.yaml: the HTTP service. Also what a packaged bento freezes, and what
    the FULLCYCLE_* environment variables override at serve time (fullcycle/serve/settings.py)."""

    conf: ClassVar[str] = "conf/serve/default.yaml"
    runtime: Runtime
    model_dir: Name
    optimized_dir: Name
    model_name: Name
    bento_path: Name
    host: Name
    port: Count
    max_texts: Count
    max_chars: Count
    batching: bool
    max_batch_size: Count
    max_wait_ms: Count
    max_queue: Count
    timeout_s: Count
    max_concurrency: Count
    max_inflight_mb: Count
    capture: bool
    capture_path: Name
    capture_sink: Literal["file", "otlp"]
    capture_max_bytes: Count
    capture_rotate_s: Count
    capture_keep_bytes: Count
    explain: bool
    explain_steps: Count
    explain_max_steps: Count
    explain_warn_delta: Positive

    @property
    def max_body_bytes(self) -> int:
        """The largest request body worth reading, derived from the limits: max_texts texts of
        max_chars characters, each character JSON-escaped (\\uXXXX, 6 bytes), plus quotes and
        commas per text and room for the envelope. Anything longer is a 413 before it is read."""
        return self.max_texts * (self.max_chars * BYTES_PER_CHAR + 16) + 4096

    @property
    def max_inflight_bytes(self) -> int:
        return self.max_inflight_mb * 2**20

    @model_validator(mode="after")
    def _holds_one_request(self) -> Self:
        if self.max_inflight_bytes < self.max_body_bytes:
            raise ValueError(
                f"{{key}}.max_inflight_mb = {self.max_inflight_mb} cannot hold one request of the "
                f"largest size the limits allow ({self.max_body_bytes / 2**20:.1f} MB from "
                "{key}.max_texts x {key}.max_chars): raise it or lower those limits"
            )
        return self

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump()


class Pruner(Group):
    """tune's `pruner:`: stop trials whose val macro-F1 after an epoch lags the earlier trials'.
    Keys of one pruner type (percentile, lower) pass through to train/pruning.py."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)
    type: Literal["median", "percentile", "threshold", "hyperband", "none"] = "median"
    startup_trials: Annotated[int, Field(ge=0)] = 2
    warmup_epochs: Annotated[int, Field(ge=0)] = 0


class Tune(Group):
    """conf/tune/default.yaml and quick.yaml, or any search-space file (`fullcycle tune --space`).
    Unlike the params groups, a search-space file may hold only `space:`, so these keys have
    defaults; conf/tune/*.yaml set every one of them but `metric`. Each `space` entry is checked
    by tune/space.py (its own format: a distribution per params key)."""

    conf: ClassVar[str] = "conf/tune/"
    study: Annotated[str, Field(pattern=r"^[\w-]+$")] = "tune"  # letters, digits, - and _
    sampler: Literal["tpe", "random", "grid"] = "tpe"
    trials: Count = 20
    seed: int = 42
    tpe_startup_trials: Count = 10
    seeds: Count = 1
    metric: Name = "dvclive/metrics.json:best.val_f1_macro"
    targets: list[Name] = ["evaluate"]  # noqa: RUF012 (pydantic copies defaults)
    pruner: Pruner = Pruner()
    space: Annotated[dict[str, Any], Field(min_length=1)]
