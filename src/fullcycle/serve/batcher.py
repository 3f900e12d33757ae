"""The /classify batcher: a lone text is answered at once, concurrent texts share forward passes.

Why not BentoML's own batcher: BentoML 1.4's adaptive dispatcher holds each request for about the
average queue wait it learned over its last batches, and no setting caps that hold
(`max_latency_ms` only sheds a request with a 503). After a burst of load a lone text then waited
10x the model's latency. This one follows the load instead, in the way Triton's
`max_queue_delay_microseconds` and Ray Serve's `batch_wait_timeout_s` bound their waits.

How it decides (`wait_s`, a pure function of the queue, the last pass and the clock):
- One forward pass runs at a time, in a thread of its own; the event loop keeps admitting requests
  into the queue meanwhile (texts of requests that arrive during a pass ride the next one).
- When the model is free, the queue's head goes **at once** when:
  * its texts fill a batch (serve.max_batch_size), or
  * as many requests are queued as are *expected*: the requests the last pass carried plus those
    that were queued when it returned (callers it just answered tend to come back together), but
    only when that pass returned shortly (max_wait) before the queue's oldest arrival; otherwise
    one request is all that is expected, so a lone text never waits for companions.
- Otherwise it waits for more requests, **at most serve.max_wait_ms** after the model became free
  (or after the oldest arrival, if later): the only wait the batcher itself adds.
- A pass takes whole requests in arrival order while their texts fit max_batch_size (a request
  larger than that goes alone; the model splits it into forward passes of that size).
- Each request is answered with its own texts' predictions, in the order sent.
- A pass that fails is retried request by request, so a text that breaks the model fails only its
  own request; the others are answered.
- A request cancelled while it queues (BentoML's serve.timeout_s, or a client that disconnected:
  fullcycle.serve.guard cancels its handling) leaves the queue: its texts are never computed.
  One already in a pass is computed and dropped.
- A full queue (serve.max_queue texts waiting) refuses the request with `QueueFull`, which the
  service turns into a 503 with Retry-After (the queue's expected drain time, at least 1 s).
- serve.batching false: every request is its own pass, at once (no waiting, no sharing).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

R = TypeVar("R")


@dataclass(frozen=True)
class Policy:
    """The serve settings the batcher follows (their defaults live in conf/serve/default.yaml)."""

    max_batch_size: int  # texts per forward pass
    max_wait_s: float  # the longest the batcher holds a queue once the model is free
    max_queue: int  # texts waiting (not yet in a pass); more is QueueFull
    batching: bool  # False: one request per pass, at once


@dataclass(frozen=True)
class Pass:
    """What the last forward pass left behind."""

    finished: float  # clock time it returned
    expected: int  # requests it carried + requests queued when it returned


class QueueFull(Exception):
    def __init__(self, queued: int, limit: int, retry_after_s: int) -> None:
        super().__init__(
            f"the server's queue is full ({queued} texts waiting, serve.max_queue {limit}): "
            f"retry in {retry_after_s} s"
        )
        self.retry_after_s = retry_after_s


def wait_s(
    policy: Policy,
    texts: int,
    requests: int,
    oldest: float,
    last: Pass | None,
    now: float,
) -> float:
    """Seconds from `now` until the queue's head should go (0: at once), the model being free.

    `texts`/`requests`: what is queued (requests >= 1); `oldest`: the first one's arrival time."""
    if not policy.batching or texts >= policy.max_batch_size:
        return 0.0
    recent = last is not None and oldest - last.finished < policy.max_wait_s
    expected = last.expected if recent and last is not None else 1
    if requests >= expected:
        return 0.0
    free_since = last.finished if last is not None else oldest
    return max(0.0, max(oldest, free_since) + policy.max_wait_s - now)


@dataclass(eq=False)  # identity: `in`/remove() find this very request
class _Request:
    texts: Sequence[str]
    arrived: float
    future: asyncio.Future[list[Any]] = field(repr=False)


def take(queue: deque[_Request], policy: Policy) -> list[_Request]:
    """Whole requests from the head, in order, while their texts fit one pass (at least one)."""
    batch: list[_Request] = []
    size = 0
    while queue:
        head = queue[0]
        if head.future.done():  # its caller has gone
            queue.popleft()
            continue
        if batch and (not policy.batching or size + len(head.texts) > policy.max_batch_size):
            break
        batch.append(queue.popleft())
        size += len(head.texts)
    return batch


class Batcher(Generic[R]):
    """`await submit(texts)` -> `predict(texts)`'s results for these texts, in order.

    `predict` runs in one thread of its own (never two passes at once); `clock` is injectable so
    tests can drive the policy; `on_pass(texts)` observes each pass's size and `on_queue(texts)`
    the texts waiting (metrics)."""

    def __init__(
        self,
        predict: Callable[[list[str]], list[R]],
        policy: Policy,
        clock: Callable[[], float] = time.monotonic,
        on_pass: Callable[[int], None] | None = None,
        on_queue: Callable[[int], None] | None = None,
    ) -> None:
        self.predict = predict
        self.policy = policy
        self.clock = clock
        self.on_pass = on_pass
        self.on_queue = on_queue
        self.queue: deque[_Request] = deque()
        self.queued_texts = 0
        self.last: Pass | None = None
        self.texts_per_s = 0.0  # recent forward speed (Retry-After's estimate)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="classify")
        self._arrived: asyncio.Event | None = None
        self._loop_task: asyncio.Task[None] | None = None

    async def submit(self, texts: Sequence[str]) -> list[R]:
        self._start()
        if self.queue and self.queued_texts + len(texts) > self.policy.max_queue:
            raise QueueFull(self.queued_texts, self.policy.max_queue, self.retry_after_s())
        request = _Request(texts, self.clock(), asyncio.get_running_loop().create_future())
        self.queue.append(request)
        self._recount()
        assert self._arrived is not None
        self._arrived.set()
        try:
            return await request.future
        finally:
            if not request.future.done():  # the caller went away (cancelled) while it queued
                request.future.cancel()
            if request in self.queue:
                self.queue.remove(request)
                self._recount()

    def retry_after_s(self) -> int:
        if self.texts_per_s <= 0:
            return 1
        return max(1, math.ceil(self.queued_texts / self.texts_per_s))

    def close(self) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _recount(self) -> None:
        self.queued_texts = sum(len(r.texts) for r in self.queue)
        if self.on_queue is not None:
            self.on_queue(self.queued_texts)

    def _start(self) -> None:
        if self._loop_task is None or self._loop_task.done():
            self._arrived = asyncio.Event()
            self._loop_task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        assert self._arrived is not None
        while True:
            while not self.queue:
                self._arrived.clear()
                await self._arrived.wait()
            head = self.queue[0]
            delay = wait_s(
                self.policy,
                self.queued_texts,
                len(self.queue),
                head.arrived,
                self.last,
                self.clock(),
            )
            if delay > 0:
                self._arrived.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._arrived.wait(), delay)
                continue  # decide again: more arrived, or the wait is over
            batch = take(self.queue, self.policy)
            self._recount()
            if batch:
                await self._forward(batch)

    async def _forward(self, batch: list[_Request]) -> None:
        loop = asyncio.get_running_loop()
        texts = [t for request in batch for t in request.texts]
        if self.on_pass is not None:
            self.on_pass(len(texts))
        start = self.clock()
        try:
            results = await loop.run_in_executor(self._executor, self.predict, texts)
            _answer(batch, results)
        except Exception as error:
            if len(batch) == 1:
                _fail(batch[0], error)
            else:  # find whose texts broke it: each request alone
                for request in batch:
                    await self._forward([request])
                return
        finally:
            finished = self.clock()
            elapsed = finished - start
            self.last = Pass(finished, len(batch) + len(self.queue))
        if elapsed > 0:
            rate = len(texts) / elapsed
            self.texts_per_s = (
                rate if self.texts_per_s <= 0 else 0.8 * self.texts_per_s + 0.2 * rate
            )


def _answer(batch: list[_Request], results: Sequence[Any]) -> None:
    if len(results) != sum(len(r.texts) for r in batch):
        raise RuntimeError(f"the model returned {len(results)} predictions for a pass of texts")
    start = 0
    for request in batch:
        end = start + len(request.texts)
        if not request.future.done():
            request.future.set_result(list(results[start:end]))
        start = end


def _fail(request: _Request, error: Exception) -> None:
    if not request.future.done():
        request.future.set_exception(error)
