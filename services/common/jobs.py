"""A service's periodic background job, for the lifetime of its app."""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress

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
