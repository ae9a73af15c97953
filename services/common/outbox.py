"""The transactional outbox: events written in the same transaction as the change they announce,
and the feed the gateway's webhook relay reads and acknowledges them through.

An event is a row in the service's own database, so it exists exactly when the change does: a
request that fails rolls it back with everything else. Rows are numbered by the database as
they are written, and two changes of one resource are serialised by the resource's row lock,
so reading unacknowledged rows in number order gives each resource's events in order.
"""

import logging
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
    delete,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import RowMapping

from services.common.audit import Outcome
from services.common.auth import CurrentPrincipal, Principal, Role
from services.common.db import Database, UTCDateTime, utcnow
from services.common.errors import Forbidden, problem_responses
from services.common.jobs import periodic_job
from services.common.settings import ServiceSettings
from services.common.uow import UnitOfWork, UnitOfWorkDep

logger = logging.getLogger("telemed.outbox")
# Only the gateway mints tokens with it (for its relay); its directory refuses it to API clients.
RELAY_SCOPE = "events:relay"
AUDIT_RESOURCE = "outbox"
MAX_BATCH = 1000
PENDING = text("acked_at IS NULL")


class EventType(StrEnum):
    """What webhooks announce; the strings are part of the public contract."""

    CASE_SUBMITTED = "case.submitted"
    CASE_ACCEPTED = "case.accepted"
    CASE_CONCLUDED = "case.concluded"  # an amendment too, with `data.version`
    CASE_INFO_REQUESTED = "case.info_requested"  # the specialist asks the requester for more
    CASE_DEADLINE_SOON = "case.deadline_soon"  # once per case, ahead of its deadline
    APPEAL_RESOLVED = "appeal.resolved"
    MONITORING_ESCALATED = "monitoring.escalated"
    # A home-visit call taken for a polyclinic, with the day and window the caller was told.
    HOME_VISIT_REQUESTED = "home_visit.requested"
    APPOINTMENT_BOOKED = "appointment.booked"
    APPOINTMENT_CANCELLED = "appointment.cancelled"
    APPOINTMENT_REMINDER_DUE = "appointment.reminder_due"
    RECORDING_READY = "recording.ready"
    # An ICU bed's picture stopped for longer than the alarm threshold, or came back.
    WARD_ALARM_RAISED = "ward.alarm_raised"
    WARD_ALARM_CLEARED = "ward.alarm_cleared"


class EventResource(BaseModel):
    """The resource an event is about; deliveries are ordered per (subscription, resource)."""

    type: str = Field(examples=["case"])
    id: uuid.UUID


class OutboxEvent(BaseModel):
    """One event, in the shape every service emits and every webhook delivers."""

    id: uuid.UUID
    type: str = Field(examples=[EventType.CASE_SUBMITTED.value])
    occurred_at: datetime
    source: str = Field(examples=["consult"], description="The emitting service.")
    resource: EventResource
    organization_ids: list[uuid.UUID] = Field(
        description="The organisations entitled to see the event."
    )
    data: dict[str, Any] = Field(
        description="Small and free of patient names: status, urgency, times, ids."
    )


class OutboxFeed(BaseModel):
    events: list[OutboxEvent]


class AckRequest(BaseModel):
    ids: list[uuid.UUID] = Field(max_length=MAX_BATCH)


def define_outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox_events",
        metadata,
        # The per-service sequence the feed is read in.
        Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
        Column("id", Uuid, nullable=False, unique=True),
        Column("type", String(64), nullable=False),
        Column("occurred_at", UTCDateTime, nullable=False),
        Column("source", String(32), nullable=False),
        Column("resource_type", String(64), nullable=False),
        Column("resource_id", Uuid, nullable=False),
        Column("organization_ids", JSON, nullable=False),
        Column("data", JSON, nullable=False),
        Column("acked_at", UTCDateTime, nullable=True),
        # The feed reads the few pending rows in order, past a week of acknowledged ones.
        Index("ix_outbox_events_pending", "seq", postgresql_where=PENDING, sqlite_where=PENDING),
        Index("ix_outbox_events_acked_at", "acked_at"),  # for pruning
    )


def _event(row: RowMapping) -> OutboxEvent:
    return OutboxEvent(
        id=row["id"],
        type=row["type"],
        occurred_at=row["occurred_at"],
        source=row["source"],
        resource=EventResource(type=row["resource_type"], id=row["resource_id"]),
        organization_ids=row["organization_ids"],
        data=row["data"],
    )


class Outbox:
    """A service's outbox: its table in the service's metadata, and the name it emits under."""

    def __init__(self, metadata: MetaData, source: str) -> None:
        self.table = define_outbox_table(metadata)
        self.source = source

    async def record(
        self,
        uow: UnitOfWork,
        event_type: EventType,
        resource: tuple[str, uuid.UUID],
        organization_ids: Iterable[uuid.UUID | None],
        data: Mapping[str, Any],
        *,
        occurred_at: datetime | None = None,
    ) -> OutboxEvent:
        """Writes the event in the unit of work's transaction: it commits or rolls back with
        the change. `data` may hold datetimes and UUIDs; they are stored as JSON text."""
        event = OutboxEvent(
            id=uuid.uuid4(),
            type=event_type.value,
            occurred_at=occurred_at or utcnow(),
            source=self.source,
            resource=EventResource(type=resource[0], id=resource[1]),
            organization_ids=list(dict.fromkeys(o for o in organization_ids if o is not None)),
            data=dict(data),
        )
        stored = event.model_dump(mode="json")
        await uow.session.execute(
            insert(self.table).values(
                id=event.id,
                type=event.type,
                occurred_at=event.occurred_at,
                source=event.source,
                resource_type=event.resource.type,
                resource_id=event.resource.id,
                organization_ids=stored["organization_ids"],
                data=stored["data"],
            )
        )
        return event

    async def pending(self, uow: UnitOfWork, limit: int) -> list[OutboxEvent]:
        """Unacknowledged events, oldest first."""
        table = self.table
        query = select(table).where(table.c.acked_at.is_(None)).order_by(table.c.seq).limit(limit)
        return [_event(row) for row in (await uow.session.execute(query)).mappings()]

    async def ack(self, uow: UnitOfWork, ids: list[uuid.UUID], now: datetime) -> int:
        """Marks events delivered to the relay; unknown or already acknowledged ids are no-ops,
        so a relay that retries an acknowledgement does no harm. Returns how many were new."""
        if not ids:
            return 0
        table = self.table
        result = await uow.session.execute(
            update(table)
            .where(table.c.id.in_(ids), table.c.acked_at.is_(None))
            .values(acked_at=now)
        )
        acked: int = result.rowcount  # type: ignore[attr-defined]
        return acked

    async def prune(self, database: Database, before: datetime) -> int:
        """Deletes the events acknowledged before `before`; returns how many."""
        async with database.sessionmaker() as session:
            table = self.table
            result = await session.execute(delete(table).where(table.c.acked_at < before))
            await session.commit()
        pruned: int = result.rowcount  # type: ignore[attr-defined]
        return pruned


def _require_relay(uow: UnitOfWork, principal: Principal, action: str) -> None:
    if principal.role is not Role.API_CLIENT or not principal.has_scope(RELAY_SCOPE):
        error = Forbidden("Only the gateway's event relay reads this service's outbox.")
        uow.audit.record(action, AUDIT_RESOURCE, None, Outcome.DENIED, detail=error.detail)
        raise error


def outbox_router(outbox: Outbox) -> APIRouter:
    """`GET /api/<source>/internal/outbox` and `POST .../ack`, for the gateway's relay only;
    not in the public OpenAPI."""
    router = APIRouter(prefix=f"/api/{outbox.source}/internal/outbox", include_in_schema=False)

    @router.get("", responses=problem_responses(401, 403))
    async def pending_events(
        uow: UnitOfWorkDep,
        principal: CurrentPrincipal,
        limit: Annotated[int, Query(ge=1, le=MAX_BATCH)] = 100,
    ) -> OutboxFeed:
        _require_relay(uow, principal, "outbox.read")
        events = await outbox.pending(uow, limit)
        # An empty poll (the relay asks every second) is not worth an audit record.
        if events:
            uow.audit.record("outbox.read", AUDIT_RESOURCE, None, detail=f"{len(events)} events")
        return OutboxFeed(events=events)

    @router.post("/ack", status_code=204, responses=problem_responses(401, 403))
    async def ack_events(
        request: Request, body: AckRequest, uow: UnitOfWorkDep, principal: CurrentPrincipal
    ) -> Response:
        _require_relay(uow, principal, "outbox.ack")
        acked = await outbox.ack(uow, body.ids, request.app.state.clock())
        if acked:
            uow.audit.record("outbox.ack", AUDIT_RESOURCE, None, detail=f"{acked} events")
        return Response(status_code=204)

    return router


@asynccontextmanager
async def outbox_pruning(
    app: FastAPI, outbox: Outbox, settings: ServiceSettings
) -> AsyncIterator[None]:
    """For the app's lifetime: acknowledged events older than `outbox_retention_days` are
    deleted every `outbox_prune_interval_seconds`. The clock is read through `app.state` on
    every run, so tests can move time."""
    database: Database = app.state.database
    keep = timedelta(days=settings.outbox_retention_days)

    async def prune() -> None:
        pruned = await outbox.prune(database, app.state.clock() - keep)
        if pruned:
            logger.info("pruned %d acknowledged outbox events", pruned)

    async with periodic_job(
        f"{outbox.source}-outbox-pruning",
        settings.outbox_prune_interval_seconds,
        prune,
        tracing=app.state.tracing,
    ):
        yield
