"""Booking an appointment and acting on it: holds, confirmation, the visit's course, moving it."""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from services.common.auth import Principal, Role
from services.common.errors import Conflict, Forbidden, NotFound, ProblemError, Unprocessable
from services.common.outbox import EventType
from services.common.people import NamedPerson, PersonLookup, require_patient
from services.common.uow import UnitOfWork
from services.scheduling.access import is_staff, owns_schedule
from services.scheduling.availability import Exceptions, schedule_near, why_unbookable
from services.scheduling.booking import place
from services.scheduling.case_links import CaseLink
from services.scheduling.chains import (
    bookable_episode,
    fit_episode,
    lock_episode,
    require_fulfilled_first_visit,
)
from services.scheduling.enums import (
    FINAL_STATUSES,
    PATIENT_VISITS,
    AppointmentAction,
    AppointmentStatus,
    EpisodeStatus,
    VisitType,
)
from services.scheduling.inserts import insert
from services.scheduling.models import Appointment, Episode, Schedule
from services.scheduling.outbox_events import appointment_event, called_off
from services.scheduling.rooms import VideoRooms, live_room, release_room, request_room
from services.scheduling.schedules import visit_of
from services.scheduling.schemas import AppointmentCreate, RescheduleRequest
from services.scheduling.service import (
    HOLD_EXPIRED,
    audit,
    check_action,
    load_appointment,
    set_status,
)
from services.scheduling.service import RESOURCE as APPOINTMENT_RESOURCE
from services.scheduling.settings import SchedulingSettings
from services.scheduling.timeplan import Unbookable
from services.scheduling.views import utc_text

A, S = AppointmentAction, AppointmentStatus
ZoneLookup = Callable[[uuid.UUID], Awaitable[str]]  # organisation id -> its IANA zone


@dataclass(frozen=True)
class Booking:
    """A visit to place, once who books it for whom has been settled."""

    schedule: Schedule
    visit_type: VisitType
    start: datetime
    patient_id: uuid.UUID | None
    episode: Episode | None
    requesting_organization_id: uuid.UUID
    patient_timezone: str
    hold: bool
    booked_by: uuid.UUID
    consult_case_id: uuid.UUID | None = None
    series_id: uuid.UUID | None = None
    replaces: Appointment | None = None  # the visit a move places this one instead of
    # The patient as the directory named them where the booking (or its episode) looked
    # them up: kept with the visit for the practitioner to see.
    patient_name: str | None = None
    patient_birth_date: date | None = None
    # The schedule's exceptions around `start`, when they were read with it (`schedule_near`).
    near: Exceptions | None = None


def describe(reason: Unbookable, schedule: Schedule) -> str:
    return {
        Unbookable.TOO_SOON: f"Visits on this schedule are booked at least "
        f"{schedule.min_notice_minutes} minutes ahead.",
        Unbookable.BEYOND_HORIZON: f"This schedule takes bookings up to "
        f"{schedule.horizon_days} days ahead.",
        Unbookable.OUTSIDE_HOURS: "The visit does not fit the schedule's working hours "
        "(leave and extra hours included).",
        Unbookable.OFF_GRID: f"Visits on this schedule start every {schedule.slot_step_minutes} "
        "minutes from the start of working hours.",
    }[reason]


NO_SCHEDULE = "No schedule for this practitioner or with this id."


async def resolve_schedule(
    uow: UnitOfWork, practitioner_id: uuid.UUID | None, schedule_id: uuid.UUID | None
) -> Schedule:
    if practitioner_id is not None:
        query = select(Schedule).where(Schedule.practitioner_id == practitioner_id)
        schedule = (await uow.session.execute(query)).scalar_one_or_none()
    else:
        schedule = await uow.session.get(Schedule, schedule_id)
    if schedule is None:
        raise NotFound(NO_SCHEDULE)
    return schedule


async def _schedule_near(uow: UnitOfWork, data: AppointmentCreate) -> tuple[Schedule, Exceptions]:
    """`resolve_schedule` with the schedule's exceptions around the start, in one query."""
    found = await schedule_near(
        uow, data.start, practitioner_id=data.practitioner_id, schedule_id=data.schedule_id
    )
    if found is None:
        raise NotFound(NO_SCHEDULE)
    return found


async def book_slot(
    uow: UnitOfWork,
    booking: Booking,
    settings: SchedulingSettings,
    rooms: VideoRooms,
    now: datetime,
) -> Appointment:
    """Places one visit: the schedule must offer the start, and nothing may overlap it."""
    schedule = booking.schedule
    visit = visit_of(schedule, booking.visit_type)
    if visit is None:
        raise Unprocessable(f"This schedule offers no {booking.visit_type.value} visits.")
    reason = await why_unbookable(uow, schedule, visit, booking.start, now, booking.near)
    if reason is not None:
        raise Unprocessable(describe(reason, schedule), reason=reason.value)
    if booking.episode is not None:
        fit_episode(booking.episode, schedule, booking.visit_type)
        if booking.visit_type is VisitType.REMOTE:
            await require_fulfilled_first_visit(uow, booking.episode)
    start = booking.start.astimezone(UTC)
    end = start + timedelta(seconds=visit.duration)
    appointment = Appointment(
        id=uuid.uuid4(),
        schedule_id=schedule.id,
        practitioner_id=schedule.practitioner_id,
        organization_id=schedule.organization_id,
        specialty=schedule.specialty,
        timezone=schedule.timezone,
        patient_id=booking.patient_id,
        patient_name=booking.patient_name,
        patient_birth_date=booking.patient_birth_date,
        requesting_organization_id=booking.requesting_organization_id,
        patient_timezone=booking.patient_timezone,
        episode_id=booking.episode.id if booking.episode else None,
        consult_case_id=booking.consult_case_id,
        series_id=booking.series_id,
        replaces_id=booking.replaces.id if booking.replaces else None,
        visit_type=booking.visit_type,
        status=S.PROPOSED if booking.hold else S.BOOKED,
        starts_at=start,
        ends_at=end,
        busy_from=start - timedelta(seconds=visit.buffer_before),
        busy_until=end + timedelta(seconds=visit.buffer_after),
        hold_expires_at=now + timedelta(minutes=settings.hold_minutes) if booking.hold else None,
        booked_by=booking.booked_by,
        status_changed_at=now,
        created_at=now,
    )
    await place(uow, appointment, now)
    # Only once the slot is had: a room asked for a visit that did not fit would be left over.
    if not booking.hold:
        await request_room(uow, appointment, rooms, now)
        moved = booking.replaces
        await appointment_event(
            uow, EventType.APPOINTMENT_BOOKED, appointment,
            **({"replaces_id": moved.id, "replaces_start": moved.starts_at} if moved else {}),
        )  # fmt: skip
    return appointment


def _check_booker(principal: Principal, schedule: Schedule) -> None:
    if principal.role is Role.SPECIALIST:
        if not owns_schedule(principal, schedule):
            raise Forbidden("Specialists book only on their own schedule.")
    elif not is_staff(principal):
        raise Forbidden(
            "Coordinators, registrars and district medics book for the patients of the "
            "organisations they act for; specialists on their own schedule."
        )


async def _open_episode(
    uow: UnitOfWork,
    principal: Principal,
    data: AppointmentCreate,
    schedule: Schedule,
    zones: ZoneLookup,
    now: datetime,
    patient: NamedPerson | None,
) -> Episode:
    """An in-person visit booked outside an episode starts one: it is the first visit. Its
    requesting organisation is the patient's, whoever of those acting for it books."""
    if not is_staff(principal):
        raise Forbidden("A specialist books a patient's visits within their episode.")
    if patient is None or patient.organization_id is None or schedule.specialty is None:
        raise Unprocessable("An in-person visit is booked for a patient, with a practitioner.")
    episode = Episode(
        id=uuid.uuid4(),
        patient_id=data.patient_id,
        patient_name=patient.full_name,
        patient_birth_date=patient.birth_date,
        requesting_organization_id=patient.organization_id,
        patient_timezone=data.patient_timezone or await zones(patient.organization_id),
        specialty=schedule.specialty,
        practitioner_id=schedule.practitioner_id,
        consult_case_id=data.consult_case_id,
        status=EpisodeStatus.ACTIVE,
        created_by=principal.subject,
        created_at=now,
    )
    await insert(uow, episode)
    audit(uow, "episode.create", episode.id, resource="episode")
    return episode


def _named(episode: Episode | None, patient: NamedPerson | None) -> tuple[str | None, date | None]:
    """The patient's name and birth date as the directory showed them to whoever opened the
    episode, else to this booker (who looked the patient up); none for a visit without one."""
    if episode is not None:
        return episode.patient_name, episode.patient_birth_date
    if patient is not None:
        return patient.full_name, patient.birth_date
    return None, None


async def book(
    uow: UnitOfWork,
    principal: Principal,
    data: AppointmentCreate,
    zones: ZoneLookup,
    people: PersonLookup,
    link_case: CaseLink,
    settings: SchedulingSettings,
    rooms: VideoRooms,
    now: datetime,
) -> Appointment:
    """Books (or holds) a slot for a patient of an organisation the caller acts for (their
    own, or one theirs serves), or on the calling specialist's own schedule within an
    episode. A consultation case it names is its episode's, or one the consult service
    granted linking (a new episode takes it on too). A `patient_id` outside an episode must be
    such a patient (else a 422 naming it); an episode's patient was checked when the episode
    was opened. The visit's requesting organisation is the patient's; `booked_by` the caller."""
    action = "appointment.book"
    try:
        schedule, near = await _schedule_near(uow, data)
        _check_booker(principal, schedule)
        episode, patient = None, None
        if data.episode_id is not None:
            episode = await bookable_episode(uow, principal, data.episode_id)
        elif data.patient_id is not None:
            patient = await require_patient(people, principal, data.patient_id)
        case_id = data.consult_case_id
        if case_id is not None and (episode is None or case_id != episode.consult_case_id):
            link_case(case_id)
        if episode is not None:
            if data.patient_id is not None and data.patient_id != episode.patient_id:
                raise Unprocessable("The patient is not this episode's patient.")
        elif data.visit_type is VisitType.REMOTE:
            raise Conflict(
                "A remote follow-up needs a fulfilled in-person first visit: book it in the "
                "care episode of that visit (episode_id)."
            )
        elif data.visit_type in PATIENT_VISITS:
            episode = await _open_episode(uow, principal, data, schedule, zones, now, patient)
        organization_id = (
            episode.requesting_organization_id
            if episode
            else patient.organization_id
            if patient
            else principal.organization_id
        )
        if organization_id is None:
            raise Forbidden("Only staff of an organisation book visits.")
        name, born = _named(episode, patient)
        booking = Booking(
            schedule=schedule,
            visit_type=data.visit_type,
            start=data.start,
            patient_id=episode.patient_id if episode else data.patient_id,
            episode=episode,
            requesting_organization_id=organization_id,
            patient_timezone=data.patient_timezone
            or (episode.patient_timezone if episode else await zones(organization_id)),
            hold=data.hold,
            booked_by=principal.subject,
            consult_case_id=data.consult_case_id,
            patient_name=name,
            patient_birth_date=born,
            near=near,
        )
        appointment = await book_slot(uow, booking, settings, rooms, now)
    except ProblemError as error:
        uow.audit.refuse(action, APPOINTMENT_RESOURCE, None, error)
    audit(uow, action, appointment.id, detail=appointment.status.value)
    return appointment


async def get_appointment(
    uow: UnitOfWork, principal: Principal, appointment_id: uuid.UUID, now: datetime
) -> Appointment:
    appointment = await load_appointment(uow, principal, appointment_id, "appointment.read", now)
    audit(uow, "appointment.read", appointment.id)
    return appointment


async def act(
    uow: UnitOfWork,
    principal: Principal,
    appointment_id: uuid.UUID,
    action: AppointmentAction,
    rooms: VideoRooms,
    now: datetime,
    *,
    reason: str | None = None,
) -> Appointment:
    """One step of the visit's course (confirm, check in, arrive, fulfil, no-show, cancel,
    enter in error), as the transition table allows it."""
    audit_action = f"appointment.{action.value}"
    appointment = await load_appointment(
        uow, principal, appointment_id, audit_action, now, write=True
    )
    expired_at = appointment.hold_expires_at
    if action is A.CONFIRM and appointment.cancel_reason == HOLD_EXPIRED and expired_at:
        uow.audit.refuse(
            audit_action,
            APPOINTMENT_RESOURCE,
            appointment.id,
            Conflict(
                f"The hold expired at {utc_text(expired_at)}; the slot was "
                "released, book it again.",
                current_status=appointment.status.value,
            ),
        )
    status = check_action(uow, principal, appointment, action, now)
    given, was = live_room(appointment), appointment.status
    set_status(appointment, status, now)
    if given is not None and status in FINAL_STATUSES:
        await release_room(uow, appointment, given, rooms)
    if action is A.CONFIRM:
        appointment.hold_expires_at = None
        await request_room(uow, appointment, rooms, now)
    if action is A.CANCEL:
        appointment.cancel_reason = reason
    await uow.session.flush()
    if action is A.CONFIRM:
        await appointment_event(uow, EventType.APPOINTMENT_BOOKED, appointment)
    await called_off(uow, appointment, was)
    audit(uow, audit_action, appointment.id)
    return appointment


async def reschedule(
    uow: UnitOfWork,
    principal: Principal,
    appointment_id: uuid.UUID,
    data: RescheduleRequest,
    settings: SchedulingSettings,
    rooms: VideoRooms,
    now: datetime,
) -> Appointment:
    """Moves a visit: the old appointment is cancelled and points at its replacement, which
    points back; a hold stays a hold. Nothing changes if the new slot cannot be had."""
    action = "appointment.reschedule"
    old = await load_appointment(uow, principal, appointment_id, action, now, write=True)
    was, given = old.status, live_room(old)
    status = check_action(uow, principal, old, A.RESCHEDULE, now)
    try:
        if data.practitioner_id is None and data.schedule_id is None:
            schedule = await resolve_schedule(uow, None, old.schedule_id)
        else:
            schedule = await resolve_schedule(uow, data.practitioner_id, data.schedule_id)
        if principal.role is Role.SPECIALIST and not owns_schedule(principal, schedule):
            raise Forbidden("Specialists book only on their own schedule.")
        episode = await lock_episode(uow, old.episode_id) if old.episode_id else None
        set_status(old, status, now)
        old.cancel_reason = data.reason or "Rescheduled."
        booking = Booking(
            schedule=schedule,
            visit_type=old.visit_type,
            start=data.start,
            patient_id=old.patient_id,
            episode=episode,
            requesting_organization_id=old.requesting_organization_id,
            patient_timezone=old.patient_timezone,
            hold=was is S.PROPOSED,
            booked_by=principal.subject,
            consult_case_id=old.consult_case_id,
            series_id=old.series_id,
            replaces=old,
            patient_name=old.patient_name,
            patient_birth_date=old.patient_birth_date,
        )
        new = await book_slot(uow, booking, settings, rooms, now)
    except ProblemError as error:
        uow.audit.refuse(action, APPOINTMENT_RESOURCE, old.id, error)
    old.replaced_by_id = new.id
    await uow.session.flush()
    await called_off(uow, old, was, replaced_by_id=new.id)
    if given is not None:  # only now: if the new slot could not be had, the old room stays
        await release_room(uow, old, given, rooms)
    audit(uow, action, old.id, detail=f"replaced by {new.id}")
    audit(uow, "appointment.book", new.id, detail=f"replaces {old.id}")
    return new
