"""Overdue appeals go to the head of the responsible organisation: a periodic job flags them.

The directory knows no "head" of an organisation; its coordinators stand for it. An escalated
appeal carries `escalated_at`, heads the `escalated=true` queue of the region's operators and
has an `escalated` event naming the organisation in its history. Each appeal is escalated
once per organisation: a reassignment clears the flag for the new one.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import FastAPI
from sqlalchemy import select

from services.common.audit import AuditTables
from services.common.db import Database
from services.common.jobs import periodic_job
from services.common.uow import standalone_unit_of_work
from services.consult.appeals.access import add_event, audit
from services.consult.appeals.enums import AppealEventKind, AppealStatus
from services.consult.appeals.events import appeal_escalated
from services.consult.appeals.models import Appeal
from services.consult.appeals.routing import merge_territory_file
from services.consult.appeals.settings import AppealsSettings

logger = logging.getLogger(__name__)
# Routed and in-progress appeals have an organisation to escalate to; a `new` one is the
# region's operators' to route, and their queue shows it overdue already.
ESCALATED_STATUSES = (AppealStatus.ROUTED.value, AppealStatus.IN_PROGRESS.value)
BATCH = 500


async def escalate_overdue(database: Database, audit_tables: AuditTables, now: datetime) -> int:
    """Flags the open appeals past their deadline, up to `BATCH` per run; returns how many."""
    async with standalone_unit_of_work(database, audit_tables) as uow:
        query = (
            select(Appeal)
            .where(
                Appeal.status.in_(ESCALATED_STATUSES),
                Appeal.due_at < now,
                Appeal.escalated_at.is_(None),
            )
            .order_by(Appeal.due_at)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        )
        appeals = (await uow.session.scalars(query)).all()
        for appeal in appeals:
            appeal.escalated_at = now
            note = f"overdue since {appeal.due_at.isoformat()}: to the head of the organisation"
            add_event(
                uow,
                appeal.id,
                AppealEventKind.ESCALATED,
                now,
                None,
                to_organization_id=appeal.organization_id,
                note=note,
            )
            audit(uow, "appeal.escalate", appeal.id, detail=note)
            await appeal_escalated(uow, appeal, now)
        await uow.session.flush()
    return len(appeals)


@asynccontextmanager
async def appeal_jobs(app: FastAPI, settings: AppealsSettings) -> AsyncIterator[None]:
    """For the app's lifetime: the territory file merged at start, the escalation job running.
    The clock is read through `app.state` on every run, so tests can move time."""
    database: Database = app.state.database
    if settings.appeal_territories_file is not None:
        count = await merge_territory_file(
            database, app.state.audit_tables, settings.appeal_territories_file
        )
        logger.info("merged %d territories from %s", count, settings.appeal_territories_file)

    async def escalate() -> None:  # the clock is read on every run, so tests can move time
        await escalate_overdue(database, app.state.audit_tables, app.state.clock())

    async with periodic_job(
        "consult-appeal-escalation",
        settings.appeal_escalation_interval_seconds,
        escalate,
        tracing=app.state.tracing,
    ):
        yield
