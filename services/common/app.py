"""Builds a service's FastAPI app with the kernel every service shares wired in the same way."""

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from datetime import timedelta
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI

from services.common.audit import seal_database
from services.common.auth import (
    HttpJwksProvider,
    HttpRevocationsProvider,
    JwksProvider,
    RevocationsProvider,
    TokenVerifier,
)
from services.common.db import Database, utcnow
from services.common.errors import Problem, install_problem_handlers
from services.common.headers import ApiHeaders
from services.common.http import new_client
from services.common.idempotency import idempotency_pruning
from services.common.keys import load_or_create_secret
from services.common.limits import RequestLimits
from services.common.observability import (
    ReadinessCheck,
    configure_logging,
    install_observability,
)
from services.common.openapi import install_openapi, operation_id
from services.common.outbox import Outbox, outbox_pruning, outbox_router
from services.common.settings import ServiceSettings
from services.common.tables import KernelTables
from services.common.tracing import Tracing, install_tracing

StartupHook = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    kernel_tables: KernelTables,
    transport: httpx.AsyncBaseTransport | None = None,
    jwks: JwksProvider | None = None,
    revocations: RevocationsProvider | None = None,
    startup: StartupHook | None = None,
    readiness: dict[str, ReadinessCheck] | None = None,
    serve_docs: bool = True,
    outbox: Outbox | None = None,
    session_info: Mapping[str, Any] | None = None,
) -> FastAPI:
    """`transport` lets tests route this service's outbound calls to in-process apps; a
    service that emits events passes its `outbox`, whose feed and pruning job this wires;
    `session_info` is what every database session of the service carries (`Database`)."""
    configure_logging(settings.log_level, json_logs=settings.json_logs)
    database = Database(
        settings.resolved_database_url(),
        audit_key=load_or_create_secret(settings.resolved_audit_key_path()),
        info=session_info,
    )
    tracing = Tracing(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        gateway = new_client(settings.gateway_url, settings, transport=transport, tracing=tracing)
        app.state.gateway_client = gateway
        app.state.token_verifier = TokenVerifier(
            jwks or HttpJwksProvider(settings.resolved_jwks_url(), gateway),
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            algorithms=settings.jwt_algorithms,
            cache_seconds=settings.jwks_cache_seconds,
            revocations=revocations
            or HttpRevocationsProvider(settings.resolved_revocations_url(), gateway),
            revocations_refresh=settings.revocations_refresh_seconds,
        )
        await seal_database(database, kernel_tables.audit)
        pruning: AbstractAsyncContextManager[None] = (
            outbox_pruning(app, outbox, settings) if outbox else nullcontext()
        )
        keys_pruning = idempotency_pruning(
            app,
            retention=timedelta(hours=settings.idempotency_retention_hours),
            interval=settings.idempotency_prune_interval_seconds,
        )
        try:
            async with pruning, keys_pruning:
                if startup is None:
                    yield
                else:
                    async with startup(app):
                        yield
        finally:
            await gateway.aclose()
            await database.dispose()
            await tracing.aclose()

    app = FastAPI(
        title=title,
        description=description,
        version="0.1.0",
        lifespan=lifespan,
        responses={422: {"model": Problem, "description": "Validation error"}},
        openapi_url="/openapi.json" if serve_docs else None,
        docs_url="/docs" if serve_docs else None,
        redoc_url=None,
        # A redirect to the path without its slash would name this process's own address
        # (`http://127.0.0.1:8001/...` behind the gateway): such a path is simply not found.
        redirect_slashes=False,
        generate_unique_id_function=operation_id,
        # One schema per model: generators keep a model whose input and output schemas
        # would otherwise differ only in a `-Input`/`-Output` suffix (and drop both).
        separate_input_output_schemas=False,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.audit_tables = kernel_tables.audit
    app.state.idempotency_table = kernel_tables.idempotency
    app.state.idempotency_key = load_or_create_secret(settings.resolved_idempotency_key_path())
    app.state.transport = transport
    app.state.clock = utcnow  # read by jobs and some requests; tests replace it to move time
    install_problem_handlers(app)
    # Added before the request context, so they run inside it: refusals are logged and
    # counted with their request id, and every answer gets the API's headers.
    app.add_middleware(RequestLimits, settings=settings)
    app.add_middleware(ApiHeaders)
    # Services add their own gauges to it; `/metrics` serves them with the kernel's.
    app.state.metrics_registry = install_observability(
        app, settings.service_name, {"database": database.ping, **(readiness or {})}
    )
    app.state.tracing = tracing
    install_tracing(app, tracing)
    for router in routers:
        app.include_router(router)
    if outbox is not None:
        app.include_router(outbox_router(outbox))
    install_openapi(app)
    return app
