"""Builds the consult service's FastAPI app on the shared kernel."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from gateway.client import DirectoryClient
from services.common.app import create_service_app
from services.common.credentials import ServiceToken
from services.common.db import utcnow
from services.common.grants import GrantIssuer
from services.common.keys import (
    load_or_create_private_key,
    load_public_key,
    publish_public_key,
)
from services.common.verification import audit_router
from services.consult.appeals import api as appeals_api
from services.consult.appeals import callbacks_api, calls_api, thread_api
from services.consult.appeals.escalation import appeal_jobs
from services.consult.cases import deadlines_api, episodes_api
from services.consult.cases import patient_requests_api as patient_api
from services.consult.cases.api import router
from services.consult.cases.consilium import api as consilium_api
from services.consult.cases.deadlines import deadline_jobs
from services.consult.cases.signing import ConclusionSigner
from services.consult.chats import api as chats_api
from services.consult.chats.delivery import Courier
from services.consult.chats.redelivery import update_pruning
from services.consult.db import KERNEL_TABLES, OUTBOX
from services.consult.fhir import api as fhir_api
from services.consult.home_visits import api as home_visits_api
from services.consult.knowledge import api as knowledge_api
from services.consult.monitoring import api as monitoring_api
from services.consult.settings import ConsultSettings
from services.consult.stats import api as stats_api
from services.consult.stats.gauges import stats_jobs
from services.files.client import FilesClient
from services.scheduling.client import SchedulingClient
from services.video.client import VideoClient


def create_app(
    settings: ConsultSettings | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    settings = settings or ConsultSettings()
    key_path = settings.resolved_signing_key_path()

    @asynccontextmanager
    async def startup(app: FastAPI) -> AsyncIterator[None]:
        app.state.directory = DirectoryClient(app.state.gateway_client)
        app.state.files = FilesClient(app.state.gateway_client)
        app.state.scheduling = SchedulingClient(app.state.gateway_client)
        app.state.video = VideoClient(app.state.gateway_client)
        app.state.chat_token = ServiceToken(
            app.state.gateway_client,
            settings.chat_client_credentials,
            service="Consult's chats",
            missing="TELEMED_CONSULT_CHAT_CLIENT_ID, or `telemed seed --demo`",
        )
        courier = Courier(app.state.database, settings, lambda: app.state.clock())
        app.state.wake_outbound = courier.wake
        key = await asyncio.to_thread(load_or_create_private_key, key_path)
        retired = [load_public_key(path) for path in settings.retired_signing_keys]
        app.state.conclusion_signer = ConclusionSigner(key, retired)
        grant_key = await asyncio.to_thread(
            load_or_create_private_key, settings.resolved_grant_key_path()
        )
        app.state.grants = GrantIssuer(grant_key, issuer="consult")
        if settings.grant_public_key_path is not None:
            await asyncio.to_thread(
                publish_public_key, grant_key.public_key(), settings.grant_public_key_path
            )
        async with (
            appeal_jobs(app, settings),
            stats_jobs(app, settings),
            deadline_jobs(app, settings),
            courier.running(),
            update_pruning(app, settings),
        ):
            yield

    app = create_service_app(
        settings,
        title="telemed consult",
        description="Doctor-to-doctor consultations and consilia, patients' requests after an "
        "in-person visit, patients' appeals with routing and callbacks, monitoring of at-risk "
        "patients, and the figures managers run it on.",
        routers=[
            router,
            patient_api.router,
            episodes_api.router,
            deadlines_api.router,
            consilium_api.router,
            monitoring_api.router,
            appeals_api.router,
            callbacks_api.router,
            thread_api.router,
            chats_api.router,
            knowledge_api.router,
            calls_api.router,
            home_visits_api.router,
            stats_api.router,
            fhir_api.router,
            audit_router("consult"),
        ],
        kernel_tables=KERNEL_TABLES,
        outbox=OUTBOX,
        transport=transport,
        startup=startup,
    )
    app.state.clock = utcnow  # read on every request, so tests can move time
    return app
