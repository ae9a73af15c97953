"""API views of stored rows: UTC instants with the wall-clock times of the zones that matter."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from services.scheduling.enums import LINKED_VISIT, AppointmentStatus, VisitType
from services.scheduling.models import Appointment, Episode, Schedule, ScheduleException
from services.scheduling.schemas import (
    AppointmentOut,
    EpisodeOut,
    ExceptionOut,
    LocalSpan,
    Room,
    ScheduleOut,
)


def utc_text(moment: datetime) -> str:
    """As the API writes instants: ISO 8601 in UTC with `Z`."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def local_span(start: datetime, end: datetime, zone: str) -> LocalSpan:
    tz = ZoneInfo(zone)
    return LocalSpan(start=start.astimezone(tz), end=end.astimezone(tz), timezone=zone)


def schedule_out(schedule: Schedule) -> ScheduleOut:
    return ScheduleOut.model_validate(schedule)


def exception_out(exception: ScheduleException, zone: str) -> ExceptionOut:
    return ExceptionOut(
        id=exception.id,
        schedule_id=exception.schedule_id,
        kind=exception.kind,
        start=exception.starts_at,
        end=exception.ends_at,
        local=local_span(exception.starts_at, exception.ends_at, zone),
        reason=exception.reason,
    )


def appointment_out(appointment: Appointment, join_link_before: timedelta) -> AppointmentOut:
    """`join_link_before` is the service's setting the join-link route keeps to, so the
    window the appointment states is the one the route applies."""
    room = None
    if appointment.room_state is not None:
        linked = appointment.visit_type is LINKED_VISIT
        room = Room(
            state=appointment.room_state,
            room_id=appointment.room_id,
            join_url=appointment.room_join_url,
            join_opens_at=appointment.starts_at - join_link_before if linked else None,
            join_closes_at=appointment.ends_at if linked else None,
        )
    start, end = appointment.starts_at, appointment.ends_at
    return AppointmentOut(
        id=appointment.id,
        status=appointment.status,
        visit_type=appointment.visit_type,
        schedule_id=appointment.schedule_id,
        practitioner_id=appointment.practitioner_id,
        organization_id=appointment.organization_id,
        specialty=appointment.specialty,
        patient_id=appointment.patient_id,
        patient_name=appointment.patient_name,
        patient_birth_date=appointment.patient_birth_date,
        requesting_organization_id=appointment.requesting_organization_id,
        episode_id=appointment.episode_id,
        consult_case_id=appointment.consult_case_id,
        series_id=appointment.series_id,
        start=start,
        end=end,
        local=local_span(start, end, appointment.timezone),
        patient_local=local_span(start, end, appointment.patient_timezone),
        hold_expires_at=appointment.hold_expires_at,
        replaces_id=appointment.replaces_id,
        replaced_by_id=appointment.replaced_by_id,
        booked_by=appointment.booked_by,
        cancel_reason=appointment.cancel_reason,
        room=room,
        status_changed_at=appointment.status_changed_at,
        created_at=appointment.created_at,
    )


def first_visit_fulfilled(appointments: Sequence[Appointment]) -> bool:
    return any(
        item.visit_type is VisitType.IN_PERSON and item.status is AppointmentStatus.FULFILLED
        for item in appointments
    )


def episode_out(
    episode: Episode, appointments: Sequence[Appointment], join_link_before: timedelta
) -> EpisodeOut:
    return EpisodeOut(
        id=episode.id,
        patient_id=episode.patient_id,
        requesting_organization_id=episode.requesting_organization_id,
        patient_timezone=episode.patient_timezone,
        specialty=episode.specialty,
        practitioner_id=episode.practitioner_id,
        consult_case_id=episode.consult_case_id,
        status=episode.status,
        first_visit_fulfilled=first_visit_fulfilled(appointments),
        appointments=[appointment_out(item, join_link_before) for item in appointments],
        created_at=episode.created_at,
        closed_at=episode.closed_at,
    )
