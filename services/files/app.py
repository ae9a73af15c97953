"""Builds the files service's FastAPI app: the object store, tus, links and the sweeper."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common.app import create_service_app
from services.common.grants import GrantVerifier
from services.common.keys import load_or_create_secret
from services.common.verification import audit_router
from services.files import fhir_api, tus
from services.files.api import router
from services.files.client import GRANT_AUDIENCE
from services.files.downloads import LinkSigner
from services.files.enums import StorageBackend
from services.files.instance import take_slot
from services.files.maintenance import run_periodically
from services.files.models import KERNEL_TABLES
from services.files.resumable import HasherCache, release_dead_holders
from services.files.s3 import S3Store
from services.files.settings import FilesSettings
from services.files.storage import LocalStore, ObjectStore


def build_store(settings: FilesSettings) -> ObjectStore:
    if settings.storage is StorageBackend.S3:
        return S3Store(settings)
    return LocalStore(settings.resolved_local_root(), settings.part_size)


class TusResumableHeader:
    """tus wants `Tus-Resumable` on every response of its endpoints but OPTIONS, errors too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] == "OPTIONS"
            or not scope["path"].startswith(tus.PREFIX)
        ):
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], (b"tus-resumable", b"1.0.0")]
            await send(message)

        await self.app(scope, receive, send_with_header)


def create_app(
    settings: FilesSettings | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    store: ObjectStore | None = None,
) -> FastAPI:
    settings = settings or FilesSettings()
    store = store or build_store(settings)

    @asynccontextmanager
    async def startup(app: FastAPI) -> AsyncIterator[None]:
        await store.prepare()
        slot = await asyncio.to_thread(take_slot, settings.resolved_instances_dir())
        await release_dead_holders(app.state.database, slot.key)
        app.state.lease_holder = slot.key
        secret = await asyncio.to_thread(load_or_create_secret, settings.resolved_link_key_path())
        app.state.link_signer = LinkSigner(secret)
        app.state.dicom_uid_salt = await asyncio.to_thread(
            load_or_create_secret, settings.resolved_uid_salt_path()
        )
        sweeper = asyncio.create_task(
            run_periodically(
                app.state.database, store, settings.maintenance_interval.total_seconds()
            )
        )
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            store.close()
            slot.release()

    app = create_service_app(
        settings,
        title="telemed files",
        description="Case attachments: simple and tus resumable uploads into S3/MinIO or a "
        "local store, content checks, DICOM metadata, and safe downloads.",
        routers=[router, tus.router, fhir_api.router, audit_router("files")],
        kernel_tables=KERNEL_TABLES,
        transport=transport,
        startup=startup,
        readiness={"storage": store.ping},
    )
    app.state.store = store
    # Consult's grants are checked with its public key alone: files never calls consult.
    app.state.grant_verifier = GrantVerifier(
        settings.resolved_consult_grant_keys(), issuer="consult", audience=GRANT_AUDIENCE
    )
    app.state.hashers = HasherCache()
    app.state.lease_holder = None  # the instance slot's key, once the lifespan has taken one
    app.add_middleware(TusResumableHeader)
    return app
