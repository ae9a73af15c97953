"""The first-visit rule asked ahead of any booking: may a patient be followed up remotely?

Only a plan made face to face may be corrected remotely (323-FZ art. 36.2), so a patient is
eligible once an in-person visit of an active episode in the specialty is `fulfilled`. The
answer names that episode, its specialist (and whether they are on leave), or says why not and
where to book the in-person visit. It is computed over the episodes the caller may see, so it
reveals nothing else.
"""

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from services.common.auth import Principal, Role
from services.common.errors import Forbidden, NotFound, ProblemError
from services.common.uow import UnitOfWork
from services.scheduling.access import is_staff, visible_episodes
from services.scheduling.enums import (
    AppointmentStatus,
    EpisodeStatus,
    ExceptionKind,
    Ineligibility,
    VisitType,
)
from services.scheduling.models import Appointment, Episode, Schedule, ScheduleException
from services.scheduling.schemas import Eligibility
from services.scheduling.service import audit, hold_has_expired

RESOURCE = "patient"
# An in-person visit that may still take place.
UPCOMING = frozenset(
    {
        AppointmentStatus.PROPOSED,
        AppointmentStatus.BOOKED,
        AppointmentStatus.CHECKED_IN,
        AppointmentStatus.ARRIVED,
    }
)


def _check_asker(principal: Principal, patient_id: uuid.UUID) -> None:
    """The patient themselves, specialists, and staff of an organisation ask."""
    if principal.role is Role.PATIENT:
        if principal.subject != patient_id:
            raise NotFound("No such patient is visible to you.")
    elif principal.role is not Role.SPECIALIST and not is_staff(principal):
        raise Forbidden("Patients, specialists and staff of an organisation ask this.")


def _when(visit: Appointment) -> str:
    """The visit's start in the patient's own zone, as the patient will read it."""
    local = visit.starts_at.astimezone(ZoneInfo(visit.patient_timezone))
    return f"{local:%Y-%m-%d %H:%M} ({visit.patient_timezone})"


async def away_until(uow: UnitOfWork, practitioner_id: uuid.UUID, now: datetime) -> datetime | None:
    """The end of the practitioner's leave under way now, if they are on leave."""
    query = (
        select(func.max(ScheduleException.ends_at))
        .join(Schedule, Schedule.id == ScheduleException.schedule_id)
        .where(
            Schedule.practitioner_id == practitioner_id,
            ScheduleException.kind == ExceptionKind.UNAVAILABLE,
            ScheduleException.starts_at <= now,
            ScheduleException.ends_at > now,
        )
    )
    return await uow.session.scalar(query)


def _why_not(
    specialty: str, pending: Appointment | None, others: list[str]
) -> tuple[Ineligibility, str]:
    if pending is not None:
        return Ineligibility.VISIT_NOT_FULFILLED, (
            f"The in-person {specialty} visit on {_when(pending)} has not taken place yet "
            f"({pending.status.value}); a remote request can follow once it has."
        )
    if others:
        return Ineligibility.OTHER_SPECIALTY, (
            f"In-person visits took place in {', '.join(others)} only; a remote {specialty} "
            f"request needs an in-person {specialty} visit first."
        )
    return Ineligibility.NO_VISIT, (
        f"No in-person {specialty} visit is on record; a remote request needs one first."
    )


async def _in_person_visits(
    uow: UnitOfWork,
    principal: Principal,
    patient_id: uuid.UUID,
    episode_id: uuid.UUID | None,
    now: datetime,
) -> list[tuple[Appointment, Episode]]:
    """The patient's in-person visits in active episodes the caller sees, latest first."""
    query = (
        select(Appointment, Episode)
        .join(Episode, Episode.id == Appointment.episode_id)
        .where(
            Episode.patient_id == patient_id,
            Episode.status == EpisodeStatus.ACTIVE,
            Appointment.visit_type == VisitType.IN_PERSON,
            visible_episodes(principal),
        )
        .order_by(Appointment.starts_at.desc(), Appointment.id)
    )
    if episode_id is not None:
        query = query.where(Episode.id == episode_id)
    rows = (await uow.session.execute(query)).all()
    return [(visit, episode) for visit, episode in rows if not hold_has_expired(visit, now)]


async def check_eligibility(
    uow: UnitOfWork,
    principal: Principal,
    patient_id: uuid.UUID,
    specialty: str,
    episode_id: uuid.UUID | None,
    now: datetime,
    *,
    book_url: str,
) -> Eligibility:
    """Eligible with the latest fulfilled in-person visit of the specialty (in `episode_id`
    when given); otherwise the nearest reason: a visit not yet held, visits only in other
    specialties, or none. `book_url` is where to find an in-person visit to book."""
    action = "patient.eligibility"
    try:
        _check_asker(principal, patient_id)
    except ProblemError as error:
        uow.audit.refuse(action, RESOURCE, patient_id, error)
    visits = await _in_person_visits(uow, principal, patient_id, episode_id, now)
    fulfilled = [pair for pair in visits if pair[0].status is AppointmentStatus.FULFILLED]
    found = next((pair for pair in fulfilled if pair[1].specialty == specialty), None)
    # The soonest visit of the specialty still to come.
    upcoming = [pair for pair in reversed(visits) if pair[0].status in UPCOMING]
    pending = next((pair for pair in upcoming if pair[1].specialty == specialty), None)
    others = sorted({episode.specialty for _, episode in fulfilled} - {specialty})
    away = None
    if found is not None:
        reason, detail = None, f"An in-person {specialty} visit took place on {_when(found[0])}."
        outcome = f"eligible in episode {found[1].id}"
        if found[1].practitioner_id is not None:
            away = await away_until(uow, found[1].practitioner_id, now)
    else:
        reason, detail = _why_not(specialty, pending[0] if pending else None, others)
        outcome = reason.value
    visit, episode = found or pending or (None, None)
    if visit is not None:
        audit(uow, "appointment.read", visit.id)
    audit(uow, action, patient_id, detail=outcome, resource=RESOURCE)
    return Eligibility(
        eligible=found is not None,
        reason=reason,
        detail=detail,
        patient_id=patient_id,
        specialty=specialty,
        episode_id=episode.id if episode else None,
        practitioner_id=episode.practitioner_id if episode else None,
        organization_id=visit.organization_id if visit else None,
        requesting_organization_id=episode.requesting_organization_id if episode else None,
        visit_start=visit.starts_at if visit else None,
        visit_status=visit.status if visit else None,
        other_specialties=[] if found else others,
        practitioner_away_until=away,
        book_url=book_url,
    )
