"""Care episodes: opening, reading and closing them, and planning a series of follow-ups."""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from services.common.auth import Principal
from services.common.errors import Conflict, Forbidden, ProblemError, Unprocessable
from services.common.people import PersonLookup, require_patient
from services.common.uow import UnitOfWork
from services.scheduling.access import is_staff, may_book_in_episode, visible_episodes
from services.scheduling.appointments import Booking, ZoneLookup, book_slot, resolve_schedule
from services.scheduling.case_links import CaseLink
from services.scheduling.chains import (
    RESOURCE,
    bookable_episode,
    episode_appointments,
    load_episode,
    require_fulfilled_first_visit,
)
from services.scheduling.enums import EpisodeStatus, VisitType
from services.scheduling.models import Appointment, Episode, Schedule
from services.scheduling.rooms import VideoRooms
from services.scheduling.schemas import EpisodeCreate, SeriesItem, SeriesOut, SeriesRequest
from services.scheduling.service import audit
from services.scheduling.settings import SchedulingSettings
from services.scheduling.views import appointment_out

MAX_LIST = 100


async def create_episode(
    uow: UnitOfWork,
    principal: Principal,
    data: EpisodeCreate,
    zones: ZoneLookup,
    people: PersonLookup,
    link_case: CaseLink,
    now: datetime,
) -> Episode:
    """Opened for the patient's organisation (the requesting one) by staff acting for it, for
    one specialist or any of a specialty; linked to a consultation case only with the consult
    service's grant. The patient must be one of an organisation the caller acts for (else a
    422 naming `patient_id`)."""
    try:
        if not is_staff(principal):
            raise Forbidden(
                "Coordinators, registrars and district medics open episodes for their patients."
            )
        patient = await require_patient(people, principal, data.patient_id)
        organization_id = patient.organization_id
        assert organization_id is not None  # a patient the caller acts for has one
        if data.consult_case_id is not None:
            link_case(data.consult_case_id)
        if data.practitioner_id is not None:
            query = select(Schedule).where(Schedule.practitioner_id == data.practitioner_id)
            schedule = (await uow.session.execute(query)).scalar_one_or_none()
            if schedule is None or schedule.specialty != data.specialty:
                raise Unprocessable(f"The practitioner keeps no {data.specialty} schedule here.")
    except ProblemError as error:
        uow.audit.refuse("episode.create", RESOURCE, None, error)
    episode = Episode(
        id=uuid.uuid4(),
        patient_id=data.patient_id,
        patient_name=patient.full_name,
        patient_birth_date=patient.birth_date,
        requesting_organization_id=organization_id,
        patient_timezone=data.patient_timezone or await zones(organization_id),
        specialty=data.specialty,
        practitioner_id=data.practitioner_id,
        consult_case_id=data.consult_case_id,
        status=EpisodeStatus.ACTIVE,
        created_by=principal.subject,
        created_at=now,
    )
    uow.session.add(episode)
    await uow.session.flush()
    audit(uow, "episode.create", episode.id, resource=RESOURCE)
    return episode


def _audit_reads(uow: UnitOfWork, appointments: Sequence[Appointment]) -> None:
    for appointment in appointments:
        audit(uow, "appointment.read", appointment.id)


async def get_episode(
    uow: UnitOfWork, principal: Principal, episode_id: uuid.UUID
) -> tuple[Episode, Sequence[Appointment]]:
    episode = await load_episode(uow, principal, episode_id, "episode.read", write=False)
    appointments = await episode_appointments(uow, episode.id)
    audit(uow, "episode.read", episode.id, resource=RESOURCE)
    _audit_reads(uow, appointments)
    return episode, appointments


async def list_episodes(
    uow: UnitOfWork,
    principal: Principal,
    *,
    patient_id: uuid.UUID | None,
    status: EpisodeStatus | None,
) -> list[tuple[Episode, list[Appointment]]]:
    """The most recent visible episodes with their appointments, in two queries."""
    query = select(Episode).where(visible_episodes(principal))
    if patient_id is not None:
        query = query.where(Episode.patient_id == patient_id)
    if status is not None:
        query = query.where(Episode.status == status)
    episodes = (
        await uow.session.scalars(query.order_by(Episode.created_at.desc()).limit(MAX_LIST))
    ).all()
    by_episode: dict[uuid.UUID, list[Appointment]] = {episode.id: [] for episode in episodes}
    if episodes:
        found = await uow.session.scalars(
            select(Appointment)
            .where(Appointment.episode_id.in_(list(by_episode)))
            .order_by(Appointment.starts_at, Appointment.id)
        )
        for appointment in found:
            assert appointment.episode_id is not None
            by_episode[appointment.episode_id].append(appointment)
    for episode in episodes:
        audit(uow, "episode.read", episode.id, resource=RESOURCE)
        _audit_reads(uow, by_episode[episode.id])
    return [(episode, by_episode[episode.id]) for episode in episodes]


async def close_episode(
    uow: UnitOfWork, principal: Principal, episode_id: uuid.UUID, now: datetime
) -> tuple[Episode, Sequence[Appointment]]:
    """No further visits are booked in a closed episode; booked ones stay as they are."""
    episode = await load_episode(uow, principal, episode_id, "episode.close", write=True)
    try:
        if not may_book_in_episode(principal, episode):
            raise Forbidden(
                "Only the episode's specialist and its patient's organisation close it."
            )
        if episode.status is EpisodeStatus.CLOSED:
            raise Conflict("The episode is already closed.", current_status=episode.status.value)
    except ProblemError as error:
        uow.audit.refuse("episode.close", RESOURCE, episode.id, error)
    episode.status = EpisodeStatus.CLOSED
    episode.closed_at = now
    await uow.session.flush()
    audit(uow, "episode.close", episode.id, resource=RESOURCE)
    return episode, await episode_appointments(uow, episode.id)


def series_starts(first: datetime, every_days: int, count: int, zone: str) -> list[datetime]:
    """The same local wall-clock time every `every_days` days, whatever DST does meanwhile."""
    tz = ZoneInfo(zone)
    local = first.astimezone(tz)
    wall = local.time().replace(fold=0)
    return [
        datetime.combine(
            local.date() + timedelta(days=every_days * index), wall, tzinfo=tz
        ).astimezone(UTC)
        for index in range(count)
    ]


async def plan_series(
    uow: UnitOfWork,
    principal: Principal,
    episode_id: uuid.UUID,
    data: SeriesRequest,
    settings: SchedulingSettings,
    rooms: VideoRooms,
    now: datetime,
) -> SeriesOut:
    """Books each follow-up on its own: those that cannot be had are reported, not fatal."""
    action = "episode.series"
    try:
        if data.count > settings.max_series:
            raise Unprocessable(f"At most {settings.max_series} visits are planned at once.")
        episode = await bookable_episode(uow, principal, episode_id)
        if episode.practitioner_id is None:
            raise Conflict("The episode has no specialist yet: book its in-person first visit.")
        schedule = await resolve_schedule(uow, episode.practitioner_id, None)
        if data.visit_type is VisitType.REMOTE:
            await require_fulfilled_first_visit(uow, episode)
    except ProblemError as error:
        uow.audit.refuse(action, RESOURCE, episode_id, error)
    series_id = uuid.uuid4()
    items = []
    for start in series_starts(data.first_start, data.every_days, data.count, schedule.timezone):
        booking = Booking(
            schedule=schedule,
            visit_type=data.visit_type,
            start=start,
            patient_id=episode.patient_id,
            episode=episode,
            requesting_organization_id=episode.requesting_organization_id,
            patient_timezone=episode.patient_timezone,
            hold=data.hold,
            booked_by=principal.subject,
            consult_case_id=episode.consult_case_id,
            series_id=series_id,
            patient_name=episode.patient_name,
            patient_birth_date=episode.patient_birth_date,
        )
        try:
            appointment = await book_slot(uow, booking, settings, rooms, now)
        except Conflict as error:
            items.append(SeriesItem(start=start, outcome="conflict", detail=error.detail))
            continue
        except Unprocessable as error:
            items.append(SeriesItem(start=start, outcome="unavailable", detail=error.detail))
            continue
        audit(uow, "appointment.book", appointment.id, detail=f"series {series_id}")
        items.append(
            SeriesItem(
                start=start,
                outcome="booked",
                appointment=appointment_out(appointment, settings.join_link_before),
            )
        )
    booked = sum(item.outcome == "booked" for item in items)
    audit(uow, action, episode.id, detail=f"{booked} of {data.count} booked", resource=RESOURCE)
    return SeriesOut(series_id=series_id, booked=booked, items=items)
