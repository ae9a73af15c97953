"""Builds the consult service's FastAPI app on the shared kernel."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from gateway.client import DirectoryClient
from services.common.app import create_service_app
from services.common.keys import load_or_create_private_key, load_public_key
from services.consult import patient_api
from services.consult.api import router
from services.consult.models import KERNEL_TABLES
from services.consult.settings import ConsultSettings
from services.consult.signing import ConclusionSigner
from services.files.client import FilesClient
from services.scheduling.client import SchedulingClient


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
        key = await asyncio.to_thread(load_or_create_private_key, key_path)
        retired = [load_public_key(path) for path in settings.retired_signing_keys]
        app.state.conclusion_signer = ConclusionSigner(key, retired)
        yield

    return create_service_app(
        settings,
        title="telemed consult",
        description="Doctor-to-doctor consultations and patients' requests after an in-person "
        "visit: cases, work queue, messages, signed conclusions and follow-up visits.",
        routers=[router, patient_api.router],
        kernel_tables=KERNEL_TABLES,
        transport=transport,
        startup=startup,
    )
