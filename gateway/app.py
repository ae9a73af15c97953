"""The gateway app: identity, directory, token issuing, merged API docs, and the proxy."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from gateway import (
    auth,
    cors,
    directory,
    dispatch,
    docs,
    fhir,
    openapi,
    proxy,
    readiness,
    revocations,
)
from gateway.accounts import api as accounts_api
from gateway.accounts import page as accounts_page
from gateway.accounts.passwords import PasswordRules, Passwords
from gateway.auth import SecretHasher
from gateway.console import api_services, install_console
from gateway.models import kernel_tables
from gateway.notify import api as notify_api
from gateway.notify import pages as notify_pages
from gateway.notify import planning as notify_planning
from gateway.notify.jobs import notify_jobs
from gateway.oauth import routes as oauth_routes
from gateway.settings import GatewaySettings
from gateway.tokens import TokenIssuer
from gateway.visits import api as visits_api
from gateway.visits.links import VisitLinks
from gateway.webhooks import api as webhooks_api
from gateway.webhooks.relay import webhook_jobs
from services.common.app import create_service_app
from services.common.keys import load_or_create_private_key, load_public_key
from services.common.verification import audit_router


def create_app(
    settings: GatewaySettings | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    settings = settings or GatewaySettings()
    issuer = TokenIssuer(
        load_or_create_private_key(settings.resolved_signing_key_path()),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        lifetime_seconds=settings.access_token_seconds,
        published=[load_public_key(path) for path in settings.published_public_keys],
    )

    upstreams = proxy.Upstreams(settings)

    @asynccontextmanager
    async def startup(app: FastAPI) -> AsyncIterator[None]:
        await upstreams.open()
        try:
            # The courier starts before the relay, which wakes it for the messages it makes.
            async with (
                notify_jobs(app, settings) as courier,
                webhook_jobs(app, settings, upstreams, issuer, courier),
            ):
                yield
        finally:
            await upstreams.close()

    app = create_service_app(
        settings,
        title="telemed",
        description="Regional telemedicine: doctor-to-doctor consultations, files, video, "
        "scheduling. Every service's endpoints are listed under their public paths.",
        routers=[
            auth.router,
            revocations.router,
            accounts_api.router,
            accounts_page.router,
            directory.router,
            openapi.router,
            readiness.router,
            webhooks_api.router,
            notify_api.router,
            notify_pages.router,
            oauth_routes.router,
            visits_api.router,
            fhir.router,
            audit_router("gateway"),
        ],
        kernel_tables=kernel_tables,
        transport=transport,
        jwks=issuer.jwks_provider,
        # The gateway reads its own deny-list from its database (`app` is bound by then), in a
        # session of its own: principals are resolved before a handler's first query, so on
        # SQLite the request does not yet hold the one connection.
        revocations=lambda: revocations.published(app.state.database, settings),
        startup=startup,  # `/ready` checks the database only; services: `/ready/upstreams`
        serve_docs=False,
        session_info=notify_planning.session_info(settings),  # what `enqueue` plans with
    )
    app.state.token_issuer = issuer
    openapi.install(app, settings)
    docs.install(app, settings)
    oauth_routes.install(app, settings)
    app.state.visit_links = VisitLinks.from_settings(settings)
    app.state.secret_hasher = SecretHasher(
        time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib
    )
    app.state.passwords = Passwords(PasswordRules.from_settings(settings), app.state.secret_hasher)
    app.state.upstreams = upstreams
    dispatch.install(app, api_services(settings.services))  # before every other route
    install_console(app)  # the router's fallback: every other path is the web console's
    if settings.cors_origins:  # outermost: problems, and a bug's 500, get the headers too
        cors.install(app, settings.cors_origins)
    return app
