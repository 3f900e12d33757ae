"""The typed schema of conf/ (and so of params.yaml): one pydantic model per config group.

`fullcycle.core.params.load()` checks params.yaml (or this run's composition) against it once, so
a bad key or value is one error naming the key, its value and what is allowed, before any work
(schema_check.py words it; schema_release.py holds the optimize, promote, serve and tune groups).
The models hold types and bounds only: every value lives in conf/, and a field has a default only
where conf/ may leave the key out (model.tiny; the tune settings of a partial search space). The
pipeline keeps reading the DictConfig params.yaml gives (never pydantic's coerced copy), so its
outputs do not depend on this module. `trainer` is the one open group: its keys are
lightning.Trainer arguments, which Lightning itself checks when the Trainer is built.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal, Self, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

# shapes of values, named once
Count = Annotated[int, Field(ge=1)]  # a whole number >= 1
Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Fraction = Annotated[float, Field(ge=0, lt=1)]  # a share in [0, 1)
Confidence = Annotated[float, Field(ge=0.5, lt=1)]  # of an interval or an exact test
Name = Annotated[str, Field(min_length=1)]  # a path, a column, a branch: never empty

Variant = Literal["pruned-int8", "int8", "fp32"]  # every variant the optimize stage can build
Window = Literal["first", "random"]  # which window of a text an epoch trains on
Runtime = Literal["onnx", "torch"]  # what serves the model
DriftKind = Literal["topic_mix", "new_domain", "quality_drop", "replay"]  # monitor/kinds.py
VARIANTS, WINDOWS, RUNTIMES = get_args(Variant), get_args(Window), get_args(Runtime)
DRIFT_KINDS = get_args(DriftKind)


class Group(BaseModel):
    """A group of conf/: strict (YAML already typed the values: "3" is not 3, 2e5 not a count,
    though 1 is a number), every key known. `{key}` in a check's message is the group's key."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    conf: ClassVar[str] = "conf/"  # where its values live, for error messages


class Split(Group):
    """data.split (conf/data/bbc.yaml): fractions of each class; train gets the rest."""

    conf: ClassVar[str] = "conf/data/"
    seed: int
    val: Annotated[float, Field(gt=0, lt=1)]
    test: Annotated[float, Field(gt=0, lt=1)]
    production: Annotated[float, Field(gt=0, lt=1)]

    @model_validator(mode="after")
    def _leaves_train_rows(self) -> Self:
        train = 1 - self.val - self.test - self.production
        if train < 0.1:
            raise ValueError(
                f"{{key}} leaves {train:.2f} of the rows for training: val + test + production "
                "must add up to at most 0.9"
            )
        return self


class Data(Group):
    """conf/data/bbc.yaml (the BBC corpus) and conf/data/file.yaml (a data file of yours)."""

    conf: ClassVar[str] = "conf/data/"
    source: Literal["bbc", "file"]
    path: Name | None  # the data file when source is file
    text_col: Name
    label_col: Name
    labels: Annotated[list[str | int], Field(min_length=2)] | None
    on_conflict: Literal["error", "majority", "drop"]
    min_rows_per_class: Count
    max_per_class: Count | None
    max_errors: Count
    processed_dir: Name
    labelled_dir: Name
    split: Split

    @model_validator(mode="after")
    def _file_has_a_path(self) -> Self:
        if self.source == "file" and self.path is None:
            raise ValueError("{key}.source is file but {key}.path is null: name the data file")
        return self


class Lora(Group):
    """model.lora (conf/model/*.yaml): the adapters when model.peft is lora."""

    conf: ClassVar[str] = "conf/model/"
    r: Count
    alpha: Count
    dropout: Fraction
    target_modules: Annotated[list[Name], Field(min_length=1)]
    modules_to_save: list[Name]
    top_layers: Count | None  # null: every layer


class TinyBert(Group):
    """model.tiny (conf/model/tiny.yaml): the random tiny BERT's architecture."""

    conf: ClassVar[str] = "conf/model/tiny.yaml"
    hidden_size: Count
    num_hidden_layers: Count
    num_attention_heads: Count
    intermediate_size: Count


class Model(Group):
    """conf/model/minilm.yaml and conf/model/tiny.yaml."""

    conf: ClassVar[str] = "conf/model/"
    name_or_path: Name
    max_length: Count
    windows: Count
    tiny: TinyBert | None = None  # only the tiny model has (and reads) it
    peft: Literal["none", "lora"]
    lora: Lora


class Trainer(Group):
    """conf/trainer/{cpu,gpu,ddp}.yaml: lightning.Trainer arguments. The keys every profile sets
    are typed here; any other Trainer argument is passed through (Lightning checks it)."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)
    conf: ClassVar[str] = "conf/trainer/"
    accelerator: Name
    devices: int | Name | list[int]
    num_nodes: Count
    strategy: Name
    precision: int | Name
    max_epochs: Annotated[int, Field(ge=-1)]  # -1: until early stopping
    deterministic: bool | Literal["warn"]
    log_every_n_steps: Count


class Train(Group):
    """conf/train/default.yaml: optimisation and data loading for fine-tuning."""

    conf: ClassVar[str] = "conf/train/default.yaml"
    batch_size: Count
    lr: Positive
    weight_decay: NonNegative
    warmup_ratio: Fraction
    label_smoothing: Fraction
    grad_clip: NonNegative
    patience: Count
    keep: Literal["last", "best"]
    window: Window
    head_lr: Positive | None  # null: lr
    layer_decay: Annotated[float, Field(gt=0, le=1)] | None  # null: off
    bucket_by_length: bool


class Thresholds(Group):
    """monitor.thresholds (conf/monitor/default.yaml): one per drift check (monitor/checks.py's
    MEASURES; a test keeps the two equal)."""

    conf: ClassVar[str] = "conf/monitor/default.yaml"
    text: NonNegative
    text_length: NonNegative
    word_count: NonNegative
    non_letter_share: NonNegative
    oov_share: NonNegative
    embeddings: NonNegative
    predictions: NonNegative
    accuracy_drop: NonNegative


class Kinds(Group):
    """monitor.kinds (conf/monitor/default.yaml): what moved, and which kinds fail the gate."""

    conf: ClassVar[str] = "conf/monitor/default.yaml"
    fail_on: list[DriftKind]
    novelty_share: Annotated[float, Field(gt=0, le=1)]
    oov_ratio: Positive
    confidence_drop: Positive
    replay_share: Annotated[float, Field(gt=0, le=1)]


class Monitor(Group):
    """conf/monitor/default.yaml: drift checks and their thresholds."""

    conf: ClassVar[str] = "conf/monitor/default.yaml"
    production_dir: Name
    window: Count | None  # null: every batch
    # >= 20: fewer rows leave a domain classifier's test half without one of the two classes
    min_rows: Annotated[int, Field(ge=20)]
    confidence: Annotated[float, Field(ge=0.5, le=0.99999)]
    permutations: Annotated[int, Field(ge=20)]
    batch_size: Count
    embedding_map_rows: Annotated[int, Field(ge=10, le=2500)]
    thresholds: Thresholds
    kinds: Kinds


class Explain(Group):
    """conf/explain/default.yaml: which words drove the predictions (integrated gradients)."""

    conf: ClassVar[str] = "conf/explain/default.yaml"
    n_steps: Count
    batch_size: Count
    internal_batch_size: Count
    per_class: Annotated[int, Field(ge=0)]
    budget_token_steps: Count | None  # null: no limit
    top_words: Count
    min_count: Count


class Shares(Group):
    """label.export.shares (conf/label/default.yaml): how the exported texts are chosen."""

    conf: ClassVar[str] = "conf/label/default.yaml"
    uncertain: NonNegative
    drift: NonNegative
    random: NonNegative

    @model_validator(mode="after")
    def _some_share(self) -> Self:
        if self.uncertain + self.drift + self.random <= 0:
            raise ValueError("{key} must give at least one reason a positive share")
        return self


class Export(Group):
    """label.export (conf/label/default.yaml): `fullcycle label export`."""

    conf: ClassVar[str] = "conf/label/default.yaml"
    n: Count
    out: Annotated[str, Field(pattern=r"\.json$")]  # the Label Studio import file
    shares: Shares
    max_fit_rows: Count


class Label(Group):
    """conf/label/default.yaml: texts out for labelling, labels back in."""

    conf: ClassVar[str] = "conf/label/default.yaml"
    export: Export


class Baseline(Group):
    """baseline (conf/config.yaml): TF-IDF + logistic regression."""

    conf: ClassVar[str] = "conf/config.yaml"
    max_features: Count
    ngram_max: Count
    min_df: Count | Annotated[float, Field(ge=0, le=1)]  # a count, or a share of the texts
    C: Positive
