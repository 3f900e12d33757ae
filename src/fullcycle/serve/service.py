"""The BentoML service: `POST /classify` with {"texts": [...]} -> one {label, score, scores} per text.

Served three ways: `bentoml serve` at the project root (bentofile.yaml points here), `fullcycle
serve`, and `bentoml serve <bento tag>` for a bento built by `fullcycle package`.

Batching: /classify hands its texts to fullcycle.serve.batcher (not BentoML's adaptive batcher,
which makes a lone request wait for companions after any burst): a lone text goes at once;
concurrent requests share forward passes, waiting at most serve.max_wait_ms; each is answered with
its own predictions, in order; a text that breaks the model fails only its own request; a request
cancelled while queued (serve.timeout_s, or its client disconnected: see fullcycle.serve.guard)
leaves the queue; a full queue (serve.max_queue texts) is a 503 with Retry-After.
Validation (types, limits) is part of the input schema, so BentoML answers 400 before a bad
request can join a shared pass. /metadata is a plain route and all endpoints share `_predict`.

POST /explain (one text -> each word's attribution) lives in fullcycle.explain.serving: it runs in
its own thread and gives way to /classify's batches (the trade-off is written there).

Settings are read at import (the input schema and batching options are fixed there): see
fullcycle.serve.settings. The model: see fullcycle.serve.model.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Annotated, Any

import bentoml
from bentoml.exceptions import NotFound
from pydantic import AfterValidator, BaseModel, Field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fullcycle.explain.serving import Endpoint as ExplainEndpoint
from fullcycle.explain.serving import Explained
from fullcycle.serve import runtime
from fullcycle.serve import settings as serve_settings
from fullcycle.serve.batcher import Batcher, Policy, QueueFull
from fullcycle.serve.capture import Capture
from fullcycle.serve.guard import Guard, exposure_warning, listening_host
from fullcycle.serve.model import model_card
from fullcycle.serve.pii import mask_pii

logger = logging.getLogger("fullcycle.serve")

# A bento built by `fullcycle package` carries the model tag and the serve settings as build
# arguments; BentoML restores them before importing this module to serve the bento.
_ARGS = bentoml.use_arguments()
MODEL_TAG: str | None = getattr(_ARGS, "model_tag", None)
ONNX_TAG: str | None = getattr(_ARGS, "onnx_model_tag", None)  # the optimised variant, if packed
SETTINGS = serve_settings.load(getattr(_ARGS, "serve", None))


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("text is blank: send the text to classify")
    return text


Text = Annotated[
    str,
    Field(min_length=1, max_length=SETTINGS.max_chars, description="a text to classify"),
    AfterValidator(_not_blank),
]
Texts = Annotated[
    list[Text],
    Field(
        min_length=1,
        max_length=SETTINGS.max_texts,
        description=f"1 to {SETTINGS.max_texts} texts, each at most {SETTINGS.max_chars} characters",
    ),
]

Steps = Annotated[
    int, Field(ge=1, le=SETTINGS.explain_max_steps, description="integration steps for /explain")
]


class Prediction(BaseModel):
    label: str = Field(description="the most probable label")
    score: float = Field(description="its probability")
    scores: dict[str, float] = Field(description="every label's probability")


# Building a bento re-executes this module (importlib.reload) in a process that may have loaded it
# already, e.g. `fullcycle release` after `fullcycle package`: a second Counter of the same name
# would be a DuplicateTimeseries error, so a reload keeps the one registered first.
if "PREDICTED" not in globals():
    PREDICTED = bentoml.metrics.Counter(
        name="fullcycle_predictions",
        documentation="Texts classified, by predicted label",
        labelnames=["label"],
    )
    CAPTURE_ERRORS = bentoml.metrics.Counter(
        name="fullcycle_capture_errors",
        documentation="Served texts that could not be captured (full disk, unwritable directory)",
    )
    PASS_TEXTS = bentoml.metrics.Histogram(
        name="fullcycle_pass_texts",
        documentation="Texts per /classify forward pass (requests share passes under load)",
        buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
    )
    QUEUED = bentoml.metrics.Gauge(
        name="fullcycle_queue_texts",
        documentation="/classify texts waiting for the model (serve.max_queue at most)",
    )
    REFUSED = bentoml.metrics.Counter(
        name="fullcycle_queue_full",
        documentation="/classify requests refused with a 503: the queue was full (serve.max_queue)",
    )
    GONE = bentoml.metrics.Counter(
        name="fullcycle_client_gone",
        documentation="Requests cancelled because their client disconnected before the answer",
    )
    INFLIGHT = bentoml.metrics.Gauge(
        name="fullcycle_inflight_bytes",
        documentation="Request body bytes held by requests in flight (serve.max_inflight_mb at most)",
    )


@bentoml.service(
    name="fullcycle-classifier",
    workers=1,  # one process; torch already uses every core for a forward pass
    traffic={"timeout": SETTINGS.timeout_s, "max_concurrency": SETTINGS.max_concurrency},
)
class ClassifierService:
    if MODEL_TAG:  # recorded by `bentoml build` as this bento's model
        stored_model = bentoml.models.BentoModel(MODEL_TAG)
    if ONNX_TAG:
        stored_onnx = bentoml.models.BentoModel(ONNX_TAG)

    def __init__(self) -> None:
        model_dir, optimized_dir = self._find_model()
        self.model, self.runtime = runtime.load(
            SETTINGS.runtime, model_dir, optimized_dir, self.card["version"]
        )
        self.explaining = None
        if SETTINGS.explain:
            self.explaining = _explain_endpoint(self.model, self.runtime, model_dir)
        policy = Policy(
            max_batch_size=SETTINGS.max_batch_size,
            max_wait_s=SETTINGS.max_wait_ms / 1000,
            max_queue=SETTINGS.max_queue,
            batching=SETTINGS.batching,
        )
        self.batcher = Batcher(
            self._predict, policy, on_pass=PASS_TEXTS.observe, on_queue=QUEUED.set
        )
        self.recorder = _capture(self.card["version"]) if SETTINGS.capture else None
        logger.info(
            "serving %s (%s) with %s (%s)",
            self.card["name"],
            self.card["source"],
            self.runtime["name"],
            self.runtime["variant"],
        )
        warning = exposure_warning(listening_host(), serve_settings.API_KEY_ENV)
        if warning:  # once per worker (workers=1), where the operator reads the server's output
            logger.warning(warning)

    @bentoml.on_shutdown
    def _close(self) -> None:
        if self.recorder is not None:
            self.recorder.close()

    def _find_model(self) -> tuple[Path, Path | None]:
        """The model's directory and its optimised variant's: a bento's model store, else the
        configured directories. Sets `self.card`, what /metadata says about the model."""
        if MODEL_TAG:
            stored = self.stored_model
            self.card = {"name": str(stored.tag), "source": "model store", **stored.info.metadata}
            return Path(stored.path), Path(self.stored_onnx.path) if ONNX_TAG else None
        model_dir = Path(SETTINGS.model_dir)
        self.card = {
            "name": SETTINGS.model_name,
            "source": f"directory {model_dir}",
            **model_card(model_dir, project="."),
        }
        return model_dir, Path(SETTINGS.optimized_dir)

    @bentoml.api(route="/classify")
    async def classify(self, texts: Texts, ctx: bentoml.Context) -> list[Prediction]:
        """Classify texts: one prediction per text, in the order sent."""
        try:
            predictions = await self.batcher.submit(texts)  # cancelled: it leaves the queue
        except QueueFull as full:
            REFUSED.inc()
            ctx.response.status_code = 503
            ctx.response.headers["Retry-After"] = str(full.retry_after_s)
            return JSONResponse({"error": str(full)}, status_code=503)  # type: ignore[return-value]
        return [Prediction(**p) for p in predictions]

    @bentoml.api(route="/explain")
    async def explain(self, text: Text, n_steps: Steps = SETTINGS.explain_steps) -> Explained:
        """Which words drove one text's prediction (integrated gradients; see fullcycle.explain)."""
        if self.explaining is None:
            raise NotFound("POST /explain is off here (serve.explain: false)")
        return await self.explaining.run(text, n_steps)

    def _predict(self, texts: list[str]) -> list[dict[str, Any]]:
        first = self.explaining.gate.classifying() if self.explaining else contextlib.nullcontext()
        with first:  # a running /explain pauses between its chunks while this batch runs
            predictions = self.model.predict(texts, batch_size=SETTINGS.max_batch_size)
        for prediction in predictions:
            PREDICTED.labels(label=prediction["label"]).inc()
        if self.recorder is not None:  # never raises: failures are counted and logged once
            self.recorder.record(texts, predictions)
        return predictions

    def metadata(self) -> dict[str, Any]:
        limits = {k: getattr(SETTINGS, k) for k in ("max_texts", "max_chars")}
        batching = {k: getattr(SETTINGS, k) for k in ("max_batch_size", "max_wait_ms", "max_queue")}
        return {
            "model": self.card,
            "runtime": self.runtime,
            "limits": limits,
            "batching": {"enabled": SETTINGS.batching, **batching},
            "capture": self.recorder is not None,
        }


def _explain_endpoint(model: Any, runtime_info: dict[str, Any], model_dir: Path) -> ExplainEndpoint:
    """POST /explain: integrated gradients need the PyTorch model, whatever answers /classify."""
    from fullcycle.core.classifier import Classifier  # torch: here, not when BentoML looks

    torch_model = model if runtime_info["name"] == "torch" else None
    return ExplainEndpoint(
        torch_model or Classifier(model_dir),
        warn_delta=SETTINGS.explain_warn_delta,
        max_steps=SETTINGS.explain_max_steps,
    )


def _capture(version: str) -> Capture:
    """What records each served text (PII masked) with its prediction, for monitor and labelling."""
    path = _capture_path(SETTINGS.capture_path)
    recorder = Capture(
        path,
        version,
        mask=mask_pii,
        sink=SETTINGS.capture_sink,
        max_bytes=SETTINGS.capture_max_bytes,
        rotate_s=SETTINGS.capture_rotate_s,
        keep_bytes=SETTINGS.capture_keep_bytes,
        on_error=CAPTURE_ERRORS.inc,
    )
    logger.info("capturing served texts (masked) to %s", path)
    return recorder


def _capture_path(path: str) -> Path:
    """Relative capture paths are relative to the project root when serving from source; a bento
    runs in its own folder, so there they are relative to where `bentoml serve` was started."""
    if MODEL_TAG and not Path(path).is_absolute():
        return Path(os.environ.get("PWD", ".")) / path
    return Path(path)


async def _metadata(_: Request) -> JSONResponse:
    return JSONResponse(bentoml.get_current_service().metadata())


ClassifierService.mount_asgi_app(Starlette(routes=[Route("/metadata", _metadata, methods=["GET"])]))
ClassifierService.add_asgi_middleware(
    Guard,
    max_body_bytes=SETTINGS.max_body_bytes,
    api_key_env=serve_settings.API_KEY_ENV,
    max_inflight_bytes=SETTINGS.max_inflight_bytes,
    on_gone=GONE.inc,
    on_inflight=INFLIGHT.set,
)
