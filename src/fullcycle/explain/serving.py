"""POST /explain: one text in, the predicted label and each word's attribution out.

The trade-off (one model, two endpoints, two cores): /classify comes first.
- /explain runs in a thread of its own, one explanation at a time (later ones queue), so it never
  takes the thread BentoML runs /classify's batches in (a sync API would: BentoML runs sync APIs
  through one thread by default, and a 3 s explanation would stall every batch behind it).
- It integrates in chunks (`internal_batch_size` interpolated texts per forward+backward pass).
  Before each chunk it waits while a /classify batch is running, at most `max_wait_s`: so a batch
  shares the CPU with at most one chunk already under way (a fraction of a second), and a steady
  stream of /classify traffic slows an explanation down but cannot starve it.
- Its thread runs at a lower CPU priority (nice + EXPLAIN_NICE, where the OS allows): the threads
  torch starts for it inherit that, so when a /classify batch and a chunk do overlap, the OS gives
  the CPU to /classify first; on an otherwise idle machine an explanation still gets every core.
  On a machine shared with other busy processes the same priority makes explanations slower.
- It shares the loaded model (no second copy in memory) but hooks nothing on it: see attribute.py.

An answer whose |delta| exceeds `warn_delta` (serve.explain_warn_delta) carries a `warning`: the
attributions no longer add up to the prediction's change, so a reader should not trust small
differences between words. The steps are the caller's choice (n_steps, at most
serve.explain_max_steps), so the warning says what to raise rather than spending more steps unasked.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from pydantic import BaseModel, Field

CHUNK = 8  # interpolated texts per forward+backward pass: ~0.1-0.3 s for MiniLM at 128 tokens
MAX_WAIT_S = 1.0
WARN_DELTA = 0.1  # serve.explain_warn_delta's default: logits of integration error
EXPLAIN_NICE = 10  # added to the explanation thread's nice value (lower priority than /classify)

logger = logging.getLogger("fullcycle.explain")


class Word(BaseModel):
    word: str = Field(description="the word as written in the text")
    start: int = Field(description="its first character's offset in the text")
    end: int = Field(description="the offset just past its last character")
    attribution: float = Field(description="its push toward the label (negative: away from it)")


class Explained(BaseModel):
    label: str = Field(description="the predicted label (the class explained)")
    score: float = Field(description="its probability")
    words: list[Word] = Field(description="the words the model read, in order")
    delta: float = Field(description="convergence delta: how far sum(attribution) is from exact")
    n_steps: int = Field(description="integration steps used")
    truncated: bool = Field(description="true when the text was longer than the model reads")
    warning: str | None = Field(
        default=None,
        description="set when |delta| is large (serve.explain_warn_delta): attributions approximate",
    )


class ClassifyFirst:
    """Counts running /classify batches; explanation chunks wait for none to be running."""

    def __init__(self, max_wait_s: float = MAX_WAIT_S) -> None:
        self.max_wait_s = max_wait_s
        self._running = 0
        self._idle = threading.Condition()

    @contextmanager
    def classifying(self) -> Iterator[None]:
        with self._idle:
            self._running += 1
        try:
            yield
        finally:
            with self._idle:
                self._running -= 1
                self._idle.notify_all()

    def wait_turn(self) -> None:
        with self._idle:
            self._idle.wait_for(lambda: self._running == 0, timeout=self.max_wait_s)


class Endpoint:
    """What the service holds for /explain: the explainer over its model, the gate, the thread."""

    def __init__(
        self,
        model: Any,
        chunk: int = CHUNK,
        max_wait_s: float = MAX_WAIT_S,
        warn_delta: float = WARN_DELTA,
        max_steps: int | None = None,
    ) -> None:
        from fullcycle.explain.attribute import Explainer

        self.warn_delta = warn_delta
        self.max_steps = max_steps  # serve.explain_max_steps, named in the warning
        self.gate = ClassifyFirst(max_wait_s)
        self.explainer = Explainer(
            model, internal_batch_size=chunk, before_chunk=self.gate.wait_turn
        )
        self._thread = ThreadPoolExecutor(
            1, thread_name_prefix="explain", initializer=_lower_priority
        )

    def explain(self, text: str, n_steps: int) -> Explained:
        e = self.explainer.explain([text], n_steps)[0]
        return Explained(
            label=e.label,
            score=e.score,
            words=[Word(**w) for w in e.word_list()],
            delta=e.delta,
            n_steps=n_steps,
            truncated=e.read_chars < len(text.rstrip()),
            warning=self.warning(e.delta, n_steps),
        )

    def warning(self, delta: float, n_steps: int) -> str | None:
        """What to tell the caller when the integration error is too large to ignore."""
        if abs(delta) <= self.warn_delta:  # a NaN delta falls through: it warns too
            return None
        if self.max_steps is not None and n_steps >= self.max_steps:
            advice = f"n_steps is already the most allowed (serve.explain_max_steps = {n_steps})"
        else:
            most = "" if self.max_steps is None else f", up to {self.max_steps}"
            advice = f"raise n_steps (now {n_steps}{most}) or serve.explain_steps"
        return (
            f"completeness delta {delta:+.3g} is large (|delta| > {self.warn_delta:g}): the "
            f"attributions are approximate; {advice}"
        )

    async def run(self, text: str, n_steps: int) -> Explained:
        return await asyncio.wrap_future(self._thread.submit(self.explain, text, n_steps))


def _lower_priority() -> None:
    """Lower this thread's priority only (Linux: nice is per thread; threads it starts inherit it)."""
    try:
        tid = threading.get_native_id()
        now = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, now + EXPLAIN_NICE))
    except (AttributeError, OSError) as exc:  # not Linux, or not allowed: run at normal priority
        logger.info("could not lower the explain thread's priority: %s", exc)
