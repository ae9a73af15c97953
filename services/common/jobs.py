"""Background work for the lifetime of an app: a periodic job, and a worker that polls for
work or is woken to it and runs each piece beside the others."""

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager, suppress
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context

from services.common.tracing import Tracing, record_failure

logger = logging.getLogger("telemed.jobs")
STOP_GRACE = 10.0


@asynccontextmanager
async def periodic_job(
    name: str,
    interval: float,
    run: Callable[[], Awaitable[None]],
    *,
    tracing: Tracing | None = None,
    stop_grace: float = STOP_GRACE,
) -> AsyncIterator[None]:
    """Runs `run` every `interval` seconds (the first after one interval) until the context
    ends. A failed run is logged, not fatal: the next run picks up what this one left. With
    the app's `tracing` (`app.state.tracing`), each run is a trace of its own.

    On exit a run in progress may finish, for up to `stop_grace` seconds, before it is
    cancelled: a run cancelled inside a database transaction can leave its connection, and a
    SQLite write lock, behind the engine that is disposed next."""
    stopping = asyncio.Event()

    async def loop() -> None:
        while True:
            with suppress(TimeoutError):
                async with asyncio.timeout(interval):
                    await stopping.wait()
            if stopping.is_set():
                return
            span = tracing.start_span(name, parent=Context()) if tracing else trace.INVALID_SPAN
            with trace.use_span(span, end_on_exit=True):
                try:
                    await run()
                except Exception as exc:
                    # Logged in the span, so the line carries the run's trace id.
                    logger.exception("the %s job failed", name)
                    record_failure(span, exc)

    job = asyncio.create_task(loop(), name=name)
    try:
        yield
    finally:
        stopping.set()
        try:
            await asyncio.wait_for(job, stop_grace)
        except TimeoutError:
            logger.warning("the %s job was cut short after %.0f s", name, stop_grace)


class Worker(ABC):
    """Looks for work (`run_once`) every `poll_interval` seconds, or at once when woken, and
    runs each piece it takes as a task of its own (`launch`) beside the others; `busy` says
    how many are running, for `run_once` to keep within its limit. A failed look is logged
    and the next one carries on; a piece that ends frees its slot and wakes the worker.

    The work is leased where it is kept (a database row), so replicas may each run one."""

    def __init__(self, name: str, poll_interval: float, log: logging.Logger = logger) -> None:
        self.name = name
        self.poll_interval = poll_interval
        self._log = log
        self._wake = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    @property
    def busy(self) -> int:
        return len(self._in_flight)

    @abstractmethod
    async def run_once(self) -> None:
        """Takes what is due, up to the free slots, and `launch`es each piece."""

    def launch(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._in_flight.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            self._log.error("%s: %s failed to settle", self.name, task.get_name(), exc_info=exc)
        self.wake()  # a slot is free, and what waited for this piece may be due now

    @asynccontextmanager
    async def looping(self, grace: float) -> AsyncIterator[None]:
        """Runs the worker while the context lasts. It is stopped, not cancelled, so that no
        claim or record is cut off inside its transaction; pieces still running `grace`
        seconds later are cancelled (their leases run out, and whoever claims next does them)."""
        loop = asyncio.create_task(self._loop(), name=self.name)
        try:
            yield
        finally:
            self._stopping = True
            self.wake()
            await loop
            if self._in_flight:
                _, unfinished = await asyncio.wait(self._in_flight, timeout=grace)
                for task in unfinished:
                    task.cancel()
                with suppress(asyncio.CancelledError):
                    await asyncio.gather(*unfinished, return_exceptions=True)

    async def _loop(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                await self.run_once()
            except Exception:
                self._log.exception("the %s failed; it carries on", self.name)
            with suppress(TimeoutError):
                async with asyncio.timeout(self.poll_interval):
                    await self._wake.wait()
