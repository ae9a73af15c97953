"""Builds the web console's FastAPI app: pages over the gateway's public API, its session store,
static files and message catalogs."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware

from services.common.app import create_service_app
from services.common.jobs import periodic_job
from web import account, assets, auth, home
from web.admin import audit as admin_audit
from web.admin import clients, organizations, users, webhooks
from web.appeals import answers as appeal_answers
from web.appeals import callbacks as appeal_callbacks
from web.appeals import calls as appeal_calls
from web.appeals import filing as appeal_filing
from web.appeals import page as appeal_page
from web.appeals import queue as appeal_queue
from web.appeals.views import TerritoryMaps
from web.assets import Assets
from web.cases import actions, attachments, conclusions, editing, lists, page, uploads
from web.cases.seen import SeenStore
from web.cases.views import Directory
from web.consilia import actions as consilium_actions
from web.consilia import convening, invitations
from web.consilia import page as consilium_page
from web.crypto import TokenBox, load_or_create_key
from web.errors import install_page_errors
from web.figures import page as figures_page
from web.gateway_api import GatewayApi
from web.home_visits import day as home_visit_day
from web.home_visits import filing as home_visit_filing
from web.home_visits import visit as home_visit_page
from web.i18n import load_translations
from web.knowledge import editing as knowledge_editing
from web.knowledge import pages as knowledge_pages
from web.models import KERNEL_TABLES
from web.monitoring import overview as monitoring_overview
from web.monitoring import patient as monitoring_patient
from web.monitoring import tasks as monitoring_tasks
from web.oidc import Provider
from web.patients import questions, visits
from web.registry import booking as registry_booking
from web.registry import patients as registry_patients
from web.registry import visits as registry_visits
from web.schedule import calendar as schedule_calendar
from web.schedule import page as schedule_page
from web.sessions import SessionStore
from web.settings import WebSettings
from web.templating import Templates
from web.video import case_room, room
from web.video import visits as video_visits
from web.wards import listing as ward_listing
from web.wards import manage as ward_manage
from web.wards import overview as ward_overview

logger = logging.getLogger("telemed.web")
# Pages and files are sent compressed: on a 256 kbit/s link, htmx alone is 4 s uncompressed
# and about 1.3 s gzipped. Smaller answers gain nothing from it.
GZIP_MINIMUM = 1024


def create_app(
    settings: WebSettings | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """`transport` lets tests route the console's calls to the gateway to an in-process app."""
    settings = settings or WebSettings()

    @asynccontextmanager
    async def startup(app: FastAPI) -> AsyncIterator[None]:
        # The kernel's pooled client to the gateway (bearer, time-outs, request id, trace).
        api = GatewayApi(app.state.gateway_client)
        app.state.gateway_api = api
        app.state.provider = Provider(api, settings)

        async def prune() -> None:
            if pruned := await app.state.sessions.prune():
                logger.info("pruned %d ended sessions", pruned)

        async with periodic_job(
            "session-pruning",
            settings.session_prune_interval_seconds,
            prune,
            tracing=app.state.tracing,
        ):
            yield

    app = create_service_app(
        settings,
        title="telemed console",
        description="The web console's pages; no API of its own.",
        routers=[
            assets.router,
            auth.router,
            account.router,
            home.router,
            # The case screens; `/cases/new` is routed before the case page's `/cases/{id}`.
            lists.router,
            editing.router,
            page.router,
            actions.router,
            conclusions.router,
            attachments.router,
            uploads.router,
            # The consilium screens: convening from the case page, its page, the invitations.
            convening.router,
            consilium_page.router,
            consilium_actions.router,
            invitations.router,
            # The patient's screens (their home page is `home.router`'s `/`).
            visits.router,
            questions.router,
            # The staff's video visits, a room's call page, a case's video consultation.
            video_visits.router,
            room.router,
            case_room.router,
            # The administrator's screens; each `/new` is routed before its `/{id}`.
            organizations.router,
            users.router,
            clients.router,
            webhooks.router,
            admin_audit.router,
            # The hotline operator's screens; `/appeals/new` and `/appeals/answers` are routed
            # before `/appeals/{id}`.
            appeal_filing.router,
            appeal_answers.router,
            appeal_queue.router,
            appeal_page.router,
            appeal_callbacks.router,
            appeal_calls.router,
            # The knowledge base; `/knowledge/new` and each article's `/edit` are its own.
            knowledge_pages.router,
            knowledge_editing.router,
            # The registry's screens (a patient's page, booking from it, the visit's steps)
            # and the specialist's schedule with its calendar.
            registry_patients.router,
            registry_booking.router,
            registry_visits.router,
            schedule_page.router,
            schedule_calendar.router,
            # Home visits; `/home-visits/new` and `/home-visits/figures` before their `{id}`.
            home_visit_filing.router,
            home_visit_day.router,
            home_visit_page.router,
            # Monitoring; `/monitoring/tasks` and `/monitoring/enrol` before `/monitoring/{id}`.
            monitoring_tasks.router,
            monitoring_overview.router,
            monitoring_patient.router,
            # The figures for coordinators and administrators, with their CSV.
            figures_page.router,
            # ICU monitoring: the wards, their overview, managing a ward.
            ward_listing.router,
            ward_overview.router,
            ward_manage.router,
        ],
        kernel_tables=KERNEL_TABLES,
        transport=transport,
        startup=startup,
        serve_docs=False,
    )
    install_page_errors(app)
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM)
    static = Assets()
    app.state.assets = static
    app.state.templates = Templates(static, load_translations())
    key = load_or_create_key(settings.resolved_session_key_path())
    app.state.sessions = SessionStore(app.state.database, settings, TokenBox(key))
    app.state.case_views = SeenStore(app.state.database)
    app.state.directory_names = Directory()
    app.state.territory_maps = TerritoryMaps()
    return app
