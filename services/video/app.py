"""Builds the video service's FastAPI app on the shared kernel, with its live media runtime.

Run it on the plain asyncio loop (`--loop asyncio`): aiortc does not work under uvloop.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from gateway.client import DirectoryClient
from services.common.app import create_service_app
from services.common.keys import load_or_create_private_key
from services.common.verification import audit_router
from services.files.client import FilesClient
from services.video import joinpage, signalling
from services.video.api import router
from services.video.live import Live
from services.video.models import KERNEL_TABLES, OUTBOX
from services.video.quality import QualityMetrics
from services.video.settings import VideoSettings
from services.video.tokens import JoinTokens
from services.video.wards import api as wards_api
from services.video.wards import pages as wards_pages
from services.video.wards import signalling as wards_signalling
from services.video.wards.live import WardsLive
from services.video.wards.monitor import Monitor
from services.video.wards.recordings import BedRecordings
from services.video.wards.rtsp import CameraStream


def create_app(
    settings: VideoSettings | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    settings = settings or VideoSettings()

    @asynccontextmanager
    async def startup(app: FastAPI) -> AsyncIterator[None]:
        key = await asyncio.to_thread(load_or_create_private_key, settings.resolved_join_key_path())
        live = Live(
            settings=settings,
            tokens=JoinTokens(key, settings.join_token_seconds),
            files=FilesClient(app.state.gateway_client),
            database=app.state.database,
            audit_tables=app.state.audit_tables,
            metrics=QualityMetrics(app.state.metrics_registry),
        )
        app.state.live = live
        app.state.directory = DirectoryClient(app.state.gateway_client)
        app.state.wards = wards = WardsLive(settings=settings, database=app.state.database)
        recordings = BedRecordings(wards, live.files, settings)
        app.state.ward_monitor = monitor = Monitor(
            wards, app.state.database, app.state.audit_tables, CameraStream, recordings
        )
        jobs = [asyncio.create_task(live.run_quality()), asyncio.create_task(monitor.run())]
        try:
            yield
        finally:
            for job in jobs:
                job.cancel()
            for job in jobs:
                with contextlib.suppress(asyncio.CancelledError):
                    await job
            await monitor.close()
            await wards.close()
            await live.close_all()

    return create_service_app(
        settings,
        title="telemed video",
        description="WebRTC rooms for follow-ups, doctor-to-doctor consultations and consilia; "
        "ICU wards watched from the regional centre, with alarms when a bed's picture stops.",
        routers=[
            router,
            signalling.router,
            joinpage.router,
            wards_pages.router,
            wards_api.router,
            wards_signalling.router,
            audit_router("video"),
        ],
        kernel_tables=KERNEL_TABLES,
        outbox=OUTBOX,
        transport=transport,
        startup=startup,
    )
