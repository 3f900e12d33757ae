"""The /classify batcher on its own: its decisions with an injected clock (`wait_s`, `take`), and
the asyncio Batcher with a stand-in predict function (ordering, error isolation, cancellation, a
full queue). Through the real server: tests/serve/test_batching.py."""

from __future__ import annotations

import asyncio
import threading
from collections import deque

import pytest

from fullcycle.serve.batcher import Batcher, Pass, Policy, QueueFull, _Request, take, wait_s

POLICY = Policy(max_batch_size=8, max_wait_s=0.010, max_queue=16, batching=True)


# -- decisions (injected clock: times are plain numbers) --------------------------------------


def test_a_lone_request_on_an_idle_server_goes_at_once():
    assert wait_s(POLICY, texts=1, requests=1, oldest=5.0, last=None, now=5.0) == 0


def test_a_lone_request_long_after_a_burst_goes_at_once():
    burst = Pass(finished=2.0, expected=32)  # 32 callers were answered 3 s ago
    assert wait_s(POLICY, texts=1, requests=1, oldest=5.0, last=burst, now=5.0) == 0


def test_a_sequential_caller_never_waits():
    previous = Pass(finished=5.000, expected=1)  # its own last request, answered 1 ms ago
    assert wait_s(POLICY, texts=1, requests=1, oldest=5.001, last=previous, now=5.001) == 0


def test_callers_just_answered_are_waited_for_at_most_max_wait():
    burst = Pass(finished=5.000, expected=4)
    # 2 of the 4 came back: wait for the others until 10 ms after the model became free
    assert wait_s(POLICY, 2, 2, oldest=5.001, last=burst, now=5.002) == pytest.approx(0.009)
    assert wait_s(POLICY, 2, 2, oldest=5.001, last=burst, now=5.011) == 0  # the wait is over
    assert wait_s(POLICY, 4, 4, oldest=5.001, last=burst, now=5.002) == 0  # all are back


def test_a_queue_built_during_a_pass_waits_at_most_max_wait_once_the_model_is_free():
    burst = Pass(finished=5.000, expected=4)
    # 3 requests queued while the pass ran (the oldest 0.5 s ago): the wait counts from 5.000
    assert wait_s(POLICY, 3, 3, oldest=4.5, last=burst, now=5.000) == pytest.approx(0.010)
    assert wait_s(POLICY, 3, 3, oldest=4.5, last=burst, now=5.010) == 0


def test_a_full_batch_goes_without_waiting():
    burst = Pass(finished=5.000, expected=20)
    assert wait_s(POLICY, texts=8, requests=2, oldest=5.001, last=burst, now=5.001) == 0


def test_without_batching_nothing_waits():
    off = Policy(max_batch_size=8, max_wait_s=0.010, max_queue=16, batching=False)
    burst = Pass(finished=5.000, expected=20)
    assert wait_s(off, texts=1, requests=1, oldest=5.001, last=burst, now=5.001) == 0


def request(n: int, done: bool = False) -> _Request:
    future = asyncio.new_event_loop().create_future()
    if done:
        future.cancel()
    return _Request([f"t{i}" for i in range(n)], 0.0, future)


def test_a_pass_takes_whole_requests_in_order_while_they_fit():
    queue = deque([request(3), request(4), request(2), request(1)])
    assert [len(r.texts) for r in take(queue, POLICY)] == [3, 4]  # 3 + 4 fit, + 2 would not
    assert [len(r.texts) for r in take(queue, POLICY)] == [2, 1]
    big = deque([request(20), request(1)])
    assert [len(r.texts) for r in take(big, POLICY)] == [20]  # larger than a pass: alone
    gone = deque([request(2, done=True), request(1)])
    assert [len(r.texts) for r in take(gone, POLICY)] == [1]  # a caller that left is skipped
    off = Policy(max_batch_size=8, max_wait_s=0.010, max_queue=16, batching=False)
    assert [len(r.texts) for r in take(deque([request(1), request(1)]), off)] == [1]


# -- the Batcher (real asyncio, a stand-in model) ---------------------------------------------


class Model:
    """predict() labels each text by itself; the first pass can be held until released, so the
    next requests queue behind it; "poison" breaks any pass it is in."""

    def __init__(self, hold_first: bool = False) -> None:
        self.passes: list[list[str]] = []
        self.release = threading.Event()
        self.started = threading.Event()
        if not hold_first:
            self.release.set()

    def predict(self, texts: list[str]) -> list[str]:
        self.passes.append(list(texts))
        self.started.set()
        self.release.wait(30)
        if "poison" in texts:
            raise ValueError("this text breaks the model")
        return [f"label of {t}" for t in texts]


async def held_pass(batcher: Batcher, model: Model) -> asyncio.Task:
    """A first request whose pass is running (held), so that later ones queue."""
    first = asyncio.ensure_future(batcher.submit(["first"]))
    while not model.started.is_set():
        await asyncio.sleep(0.001)
    return first


def test_concurrent_requests_share_passes_and_each_gets_its_own_answers_in_order():
    model = Model(hold_first=True)

    async def main():
        batcher = Batcher(model.predict, POLICY)
        first = await held_pass(batcher, model)
        sent = [[f"r{i}-{j}" for j in range(1 + i % 3)] for i in range(6)]
        tasks = [asyncio.ensure_future(batcher.submit(texts)) for texts in sent]
        await asyncio.sleep(0)
        model.release.set()
        answers = await asyncio.gather(*tasks)
        assert await first == ["label of first"]
        batcher.close()
        return sent, answers

    sent, answers = asyncio.run(main())
    for texts, answer in zip(sent, answers, strict=True):
        assert answer == [f"label of {t}" for t in texts]
    assert max(len(p) for p in model.passes[1:]) > 3, "queued requests never shared a pass"
    assert all(len(p) <= POLICY.max_batch_size for p in model.passes)


def test_a_text_that_breaks_the_model_fails_only_its_own_request():
    model = Model(hold_first=True)

    async def main():
        batcher = Batcher(model.predict, POLICY)
        first = await held_pass(batcher, model)
        tasks = [
            asyncio.ensure_future(batcher.submit(texts))
            for texts in (["a", "b"], ["poison"], ["c"])
        ]
        await asyncio.sleep(0)
        model.release.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        await first
        batcher.close()
        return results

    good, bad, other = asyncio.run(main())
    assert good == ["label of a", "label of b"] and other == ["label of c"]
    assert isinstance(bad, ValueError)


def test_a_caller_that_leaves_while_queued_is_never_computed():
    model = Model(hold_first=True)

    async def main():
        batcher = Batcher(model.predict, POLICY)
        first = await held_pass(batcher, model)
        leaving = asyncio.ensure_future(batcher.submit(["leaves"]))
        staying = asyncio.ensure_future(batcher.submit(["stays"]))
        await asyncio.sleep(0)
        leaving.cancel()
        await asyncio.sleep(0)
        assert batcher.queued_texts == 1  # its texts left the queue with it
        model.release.set()
        assert await staying == ["label of stays"]
        await first
        batcher.close()

    asyncio.run(main())
    assert all("leaves" not in p for p in model.passes)


def test_a_full_queue_refuses_with_a_retry_delay():
    model = Model(hold_first=True)
    small = Policy(max_batch_size=8, max_wait_s=0.010, max_queue=3, batching=True)

    async def main():
        batcher = Batcher(model.predict, small)
        first = await held_pass(batcher, model)
        queued = asyncio.ensure_future(batcher.submit(["a", "b"]))
        await asyncio.sleep(0)
        with pytest.raises(QueueFull, match=r"2 texts waiting, serve.max_queue 3") as refused:
            await batcher.submit(["c", "d"])
        assert refused.value.retry_after_s >= 1
        model.release.set()
        assert await queued == ["label of a", "label of b"]
        await first
        batcher.close()

    asyncio.run(main())


def test_a_lone_request_does_not_wait_for_companions():
    """max_wait is a minute here: a lone text answered within 20 s did not wait for it."""
    model = Model()
    patient = Policy(max_batch_size=8, max_wait_s=60.0, max_queue=16, batching=True)

    async def main():
        batcher = Batcher(model.predict, patient)
        for text in ("one", "two"):  # an idle server, then a sequential caller
            assert await asyncio.wait_for(batcher.submit([text]), 20) == [f"label of {text}"]
        batcher.close()

    asyncio.run(main())
