"""Builds the video service's FastAPI app on the shared kernel."""

import httpx
from fastapi import FastAPI

from services.common.app import create_service_app
from services.video.api import router
from services.video.models import KERNEL_TABLES
from services.video.settings import VideoSettings


def create_app(
    settings: VideoSettings | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    settings = settings or VideoSettings()
    return create_service_app(
        settings,
        title="telemed video",
        description="WebRTC rooms for follow-ups, doctor-to-doctor consultations and consilia.",
        routers=[router],
        kernel_tables=KERNEL_TABLES,
        transport=transport,
    )
