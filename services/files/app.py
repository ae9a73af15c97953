"""Builds the files service's FastAPI app on the shared kernel."""

import httpx
from fastapi import FastAPI

from services.common.app import create_service_app
from services.files.api import router
from services.files.models import KERNEL_TABLES
from services.files.settings import FilesSettings


def create_app(
    settings: FilesSettings | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    settings = settings or FilesSettings()
    return create_service_app(
        settings,
        title="telemed files",
        description="Case attachments: simple and tus resumable uploads into S3/MinIO or a local "
        "store, "
        "metadata and safe downloads.",
        routers=[router],
        kernel_tables=KERNEL_TABLES,
        transport=transport,
    )
