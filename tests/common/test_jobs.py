"""The wake-or-poll worker the outboxes' senders share: it looks at once when woken, carries on
after a failed look, runs its pieces beside each other, and on stop lets them finish within
the grace and cancels the rest."""

import asyncio
import logging
from collections.abc import Callable

import pytest

from services.common.jobs import Worker

HOUR = 3600.0


class Pieces(Worker):
    """Launches each of `queued` (a piece waits for its event) while fewer than `limit` run."""

    def __init__(self, poll_interval: float = HOUR, limit: int = 10) -> None:
        super().__init__("test worker", poll_interval)
        self.limit = limit
        self.looks = 0
        self.looked = asyncio.Event()
        self.queued: list[asyncio.Event] = []
        self.done: list[asyncio.Event] = []
        self.failures: list[Exception] = []

    async def run_once(self) -> None:
        self.looks += 1
        self.looked.set()
        if self.failures:
            raise self.failures.pop(0)
        while self.queued and self.busy < self.limit:
            self.launch(self._piece(self.queued.pop(0)), name=f"piece {len(self.done)}")

    async def _piece(self, release: asyncio.Event) -> None:
        await release.wait()
        self.done.append(release)

    async def next_look(self) -> None:
        self.looked.clear()
        await asyncio.wait_for(self.looked.wait(), 5)


async def until(condition: Callable[[], bool], within: float = 5.0) -> None:
    """Polls `condition` until it holds; fails at the deadline."""
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"not within {within} s"
        await asyncio.sleep(0.01)


async def test_it_looks_on_start_and_at_once_when_woken_not_only_at_its_poll() -> None:
    worker = Pieces(poll_interval=HOUR)
    async with worker.looping(grace=1):
        await until(lambda: worker.looks == 1)
        worker.wake()
        await worker.next_look()
        assert worker.looks == 2


async def test_it_polls_without_being_woken() -> None:
    worker = Pieces(poll_interval=0.05)
    async with worker.looping(grace=1):
        await until(lambda: worker.looks >= 3)


async def test_a_failed_look_is_logged_and_the_next_carries_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    worker = Pieces()
    worker.failures.append(RuntimeError("database gone"))
    with caplog.at_level(logging.ERROR, logger="telemed.jobs"):
        async with worker.looping(grace=1):
            await until(lambda: worker.looks == 1)
            worker.wake()
            await worker.next_look()
    (record,) = [r for r in caplog.records if "carries on" in r.getMessage()]
    assert record.getMessage() == "the test worker failed; it carries on"
    assert record.exc_info is not None


async def test_pieces_run_beside_each_other_and_one_that_ends_frees_its_slot() -> None:
    worker = Pieces(limit=2)
    first, second, third = asyncio.Event(), asyncio.Event(), asyncio.Event()
    worker.queued = [first, second, third]
    async with worker.looping(grace=1):
        await until(lambda: worker.busy == 2)
        assert worker.queued == [third]  # no slot for it yet
        second.set()  # its end wakes the worker, which takes the third at once
        await until(lambda: worker.queued == [] and worker.busy == 2)
        first.set()
        third.set()
        await until(lambda: worker.busy == 0)
    assert worker.done == [second, first, third]


async def test_stopping_waits_for_running_pieces_within_the_grace_then_cancels() -> None:
    worker = Pieces()
    quick, stuck = asyncio.Event(), asyncio.Event()
    worker.queued = [quick, stuck]
    loop = asyncio.get_running_loop()
    async with worker.looping(grace=0.3):
        await until(lambda: worker.busy == 2)
        loop.call_later(0.05, quick.set)  # ends during the stop, inside the grace
        started = loop.time()
    assert loop.time() - started >= 0.3
    assert worker.done == [quick]
    assert worker.busy == 0  # the stuck one was cancelled, not left running
