"""Who may see and do what with appointments and episodes: each rule as a check and a SQL filter.

Patients see their own; specialists their own schedule; coordinators, registrars and district
medics the appointments of the patients of the organisations they act for (their own, and
those theirs serves: a call centre's, `Principal.serves`, filled in by `ActingPrincipal`) and
those held at their organisation. A room has no practitioner, so the coordinators of its
organisation act as its owner.
"""

from sqlalchemy import ColumnElement, false, or_

from services.common.auth import Principal, Role
from services.scheduling.enums import AppointmentAction
from services.scheduling.models import Appointment, Episode, Schedule

A = AppointmentAction
# Roles that book for the patients of the organisations they act for.
STAFF_ROLES = frozenset({Role.COORDINATOR, Role.DISTRICT_MEDIC, Role.REGISTRAR})
PATIENT_ACTIONS = frozenset({A.CONFIRM, A.CANCEL, A.CHECK_IN})
BOOKER_ACTIONS = frozenset({A.CONFIRM, A.CANCEL, A.CHECK_IN, A.RESCHEDULE})
OWNER_ACTIONS = frozenset(AppointmentAction) - {A.EXPIRE}


def is_staff(principal: Principal) -> bool:
    return principal.role in STAFF_ROLES and principal.organization_id is not None


def owns_schedule(principal: Principal, schedule: Schedule) -> bool:
    """The practitioner whose schedule it is, or a coordinator of a room's organisation."""
    if schedule.practitioner_id is not None:
        return principal.role is Role.SPECIALIST and principal.subject == schedule.practitioner_id
    return (
        principal.role is Role.COORDINATOR and principal.organization_id == schedule.organization_id
    )


def manages_schedule(principal: Principal, schedule: Schedule) -> bool:
    """Owners, and coordinators of the schedule's organisation, who keep their staff's hours."""
    return owns_schedule(principal, schedule) or (
        principal.role is Role.COORDINATOR and principal.organization_id == schedule.organization_id
    )


def owns_appointment(principal: Principal, appointment: Appointment) -> bool:
    if appointment.practitioner_id is not None:
        return (
            principal.role is Role.SPECIALIST and principal.subject == appointment.practitioner_id
        )
    return (
        principal.role is Role.COORDINATOR
        and principal.organization_id == appointment.organization_id
    )


def books_for(principal: Principal, appointment: Appointment) -> bool:
    """Staff of an organisation acting for the visit's patient's (the requesting one)."""
    return is_staff(principal) and appointment.requesting_organization_id in principal.acting_for


def can_see_appointment(principal: Principal, appointment: Appointment) -> bool:
    if principal.role is Role.PATIENT:
        return appointment.patient_id == principal.subject
    if principal.role is Role.SPECIALIST:
        return appointment.practitioner_id == principal.subject
    return books_for(principal, appointment) or (
        is_staff(principal) and principal.organization_id == appointment.organization_id
    )


def visible_appointments(principal: Principal) -> ColumnElement[bool]:
    """The SQL form of `can_see_appointment`."""
    if principal.role is Role.PATIENT:
        return Appointment.patient_id == principal.subject
    if principal.role is Role.SPECIALIST:
        return Appointment.practitioner_id == principal.subject
    if is_staff(principal):
        return or_(
            Appointment.organization_id == principal.organization_id,
            Appointment.requesting_organization_id.in_(sorted(principal.acting_for)),
        )
    return false()


def may_act(principal: Principal, appointment: Appointment, action: AppointmentAction) -> bool:
    if action in OWNER_ACTIONS and owns_appointment(principal, appointment):
        return True
    if action in BOOKER_ACTIONS and books_for(principal, appointment):
        return True
    return (
        action in PATIENT_ACTIONS
        and principal.role is Role.PATIENT
        and appointment.patient_id == principal.subject
    )


def can_see_episode(principal: Principal, episode: Episode) -> bool:
    if principal.role is Role.PATIENT:
        return episode.patient_id == principal.subject
    if principal.role is Role.SPECIALIST:
        return episode.practitioner_id == principal.subject
    return is_staff(principal) and episode.requesting_organization_id in principal.acting_for


def visible_episodes(principal: Principal) -> ColumnElement[bool]:
    if principal.role is Role.PATIENT:
        return Episode.patient_id == principal.subject
    if principal.role is Role.SPECIALIST:
        return Episode.practitioner_id == principal.subject
    if is_staff(principal):
        return Episode.requesting_organization_id.in_(sorted(principal.acting_for))
    return false()


def may_book_in_episode(principal: Principal, episode: Episode) -> bool:
    """The episode's specialist plans follow-ups; the patient's organisation books any visit."""
    if principal.role is Role.SPECIALIST:
        return episode.practitioner_id == principal.subject
    return is_staff(principal) and episode.requesting_organization_id in principal.acting_for
