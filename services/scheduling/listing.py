"""Lists of appointments the caller may see, by start time, keyset-paginated and audited."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, tuple_

from services.common.auth import Principal
from services.common.pagination import decode_cursor, encode_cursor
from services.common.uow import UnitOfWork
from services.scheduling.access import visible_appointments
from services.scheduling.enums import AppointmentStatus
from services.scheduling.models import Appointment
from services.scheduling.service import audit, expire_holds


@dataclass(frozen=True)
class AppointmentFilter:
    statuses: Sequence[AppointmentStatus] = field(default_factory=tuple)
    practitioner_id: uuid.UUID | None = None
    patient_id: uuid.UUID | None = None
    episode_id: uuid.UUID | None = None
    starts_from: datetime | None = None
    starts_before: datetime | None = None


async def list_appointments(
    uow: UnitOfWork,
    principal: Principal,
    filters: AppointmentFilter,
    now: datetime,
    *,
    limit: int,
    cursor: str | None = None,
) -> tuple[list[Appointment], str | None]:
    """One page ordered by (start, id) and the cursor of the next; each one listed is audited."""
    after = decode_cursor(cursor) if cursor else None
    await expire_holds(uow, now)
    query = select(Appointment).where(visible_appointments(principal))
    if filters.statuses:
        query = query.where(Appointment.status.in_(filters.statuses))
    if filters.practitioner_id:
        query = query.where(Appointment.practitioner_id == filters.practitioner_id)
    if filters.patient_id:
        query = query.where(Appointment.patient_id == filters.patient_id)
    if filters.episode_id:
        query = query.where(Appointment.episode_id == filters.episode_id)
    if filters.starts_from:
        query = query.where(Appointment.starts_at >= filters.starts_from)
    if filters.starts_before:
        query = query.where(Appointment.starts_at < filters.starts_before)
    if after is not None:
        query = query.where(tuple_(Appointment.starts_at, Appointment.id) > after)
    query = query.order_by(Appointment.starts_at, Appointment.id).limit(limit + 1)
    rows = list((await uow.session.scalars(query)).all())
    page = rows[:limit]
    for appointment in page:
        audit(uow, "appointment.read", appointment.id, detail="listed")
    more = len(rows) > limit
    return page, encode_cursor(page[-1].starts_at, page[-1].id) if more else None
