"""Builds the scheduling service's FastAPI app on the shared kernel, with its reminder job and
its way to the video service."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from gateway.client import DirectoryClient
from services.common.app import create_service_app
from services.common.credentials import ServiceToken
from services.common.db import utcnow
from services.common.grants import GrantVerifier
from services.common.jobs import periodic_job
from services.common.verification import audit_router
from services.scheduling import eligibility_api, fhir_api
from services.scheduling.api import router
from services.scheduling.case_links import GRANT_AUDIENCE
from services.scheduling.models import KERNEL_TABLES, OUTBOX
from services.scheduling.reminders import load_channel, run_and_fill_rooms
from services.scheduling.rooms import VideoRooms
from services.scheduling.settings import SchedulingSettings
from services.video.client import VideoClient


def create_app(
    settings: SchedulingSettings | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    settings = settings or SchedulingSettings()
    channel = load_channel(settings.reminder_channel)

    @asynccontextmanager
    async def startup(app: FastAPI) -> AsyncIterator[None]:
        gateway = app.state.gateway_client
        app.state.directory = DirectoryClient(gateway)
        credential = ServiceToken(
            gateway,
            settings.video_client_credentials,
            service="Scheduling",
            missing="TELEMED_SCHEDULING_VIDEO_CLIENT_ID, or `telemed seed --demo`",
        )
        app.state.video_rooms = VideoRooms(VideoClient(gateway), credential)

        async def remind() -> None:  # the clock is read on every run, so tests can move time
            await run_and_fill_rooms(
                app.state.database, KERNEL_TABLES.audit, channel, app.state.video_rooms,
                settings, app.state.clock(),
            )  # fmt: skip

        async with periodic_job(
            "scheduling-reminders",
            settings.reminder_interval_seconds,
            remind,
            tracing=app.state.tracing,
        ):
            yield

    app = create_service_app(
        settings,
        title="telemed scheduling",
        description="Specialists' availability, conflict-free appointments and visit chains "
        "from an in-person first visit to remote follow-ups.",
        routers=[router, eligibility_api.router, fhir_api.router, audit_router("scheduling")],
        kernel_tables=KERNEL_TABLES,
        outbox=OUTBOX,
        transport=transport,
        startup=startup,
    )
    app.state.clock = utcnow
    app.state.consult_grants = GrantVerifier(
        settings.resolved_consult_grant_keys(), issuer="consult", audience=GRANT_AUDIENCE
    )
    app.state.reminder_channel = channel
    return app
