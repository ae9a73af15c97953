"""Builds the scheduling service's FastAPI app on the shared kernel."""

import httpx
from fastapi import FastAPI

from services.common.app import create_service_app
from services.scheduling.api import router
from services.scheduling.models import KERNEL_TABLES
from services.scheduling.settings import SchedulingSettings


def create_app(
    settings: SchedulingSettings | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    settings = settings or SchedulingSettings()
    return create_service_app(
        settings,
        title="telemed scheduling",
        description="Specialists' availability, conflict-free appointments and visit chains "
        "from an "
        "in-person first visit to remote follow-ups.",
        routers=[router],
        kernel_tables=KERNEL_TABLES,
        transport=transport,
    )
