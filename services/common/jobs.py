"""A service's periodic background job, for the lifetime of its app."""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress

logger = logging.getLogger("telemed.jobs")


@asynccontextmanager
async def periodic_job(
    name: str, interval: float, run: Callable[[], Awaitable[None]]
) -> AsyncIterator[None]:
    """Runs `run` every `interval` seconds (the first after one interval) until the context
    ends. A failed run is logged, not fatal: the next run picks up what this one left."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await run()
            except Exception:
                logger.exception("the %s job failed", name)

    job = asyncio.create_task(loop(), name=name)
    try:
        yield
    finally:
        job.cancel()
        with suppress(asyncio.CancelledError):
            await job
