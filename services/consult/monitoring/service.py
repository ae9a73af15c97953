"""Monitoring of at-risk patients: enrolment in a programme, check-ins, discharge.

A coordinator (the hotline operator) or a doctor of the responsible organisation puts the
patient under a programme; the operator, or the patient themselves, checks in at the
programme's interval, and the programme's thresholds (`thresholds.py`) turn a worsening into
an urgent task for that organisation (`monitoring_tasks.py`). Only the organisation's care
team and the patient see the monitoring; to anyone else it does not exist.
"""

import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.common.auth import Principal, Role
from services.common.errors import Conflict, Forbidden, NotFound, ProblemError, Unprocessable
from services.common.people import PersonLookup, acts_for, require_patient, require_person
from services.common.uow import UnitOfWork
from services.consult.monitoring.access import RESOURCE as ENROLMENT_RESOURCE
from services.consult.monitoring.access import (
    can_see,
    care_team_of,
    record,
    require_care_team,
)
from services.consult.monitoring.enums import EnrolmentStatus, MonitoringAction
from services.consult.monitoring.models import CheckIn, Enrolment
from services.consult.monitoring.schemas import (
    CheckInCreate,
    DischargeRequest,
    EnrolmentCreate,
    EnrolmentOut,
)
from services.consult.monitoring.settings import MonitoringSettings
from services.consult.monitoring.tasks import escalate
from services.consult.monitoring.thresholds import Programme, Reading, evaluate, longest_history
from services.consult.ports import OrganizationLookup
from services.consult.values import patient_of, set_patient

E = EnrolmentStatus
TRANSITIONS = {
    (E.ACTIVE, MonitoringAction.CHECK_IN): E.ACTIVE,
    (E.ACTIVE, MonitoringAction.DISCHARGE): E.DISCHARGED,
}
MAX_LIST = 200


def _next(uow: UnitOfWork, enrolment: Enrolment, action: MonitoringAction) -> EnrolmentStatus:
    target = TRANSITIONS.get((enrolment.status, action))
    if target is None:
        refusal = Conflict(
            f"Cannot {action.value.replace('_', ' ')} a monitoring that is "
            f"{enrolment.status.value}.",
            current_status=enrolment.status.value,
        )
        uow.audit.refuse(f"monitoring.{action.value}", ENROLMENT_RESOURCE, enrolment.id, refusal)
    return target


def enrolment_out(enrolment: Enrolment, now: datetime) -> EnrolmentOut:
    fields = {
        name: getattr(enrolment, name)
        for name in EnrolmentOut.model_fields
        if name not in {"patient", "overdue"}
    }
    overdue = enrolment.status is E.ACTIVE and enrolment.next_due_at < now
    return EnrolmentOut.model_validate(
        {**fields, "patient": patient_of(enrolment), "overdue": overdue}
    )


async def load_enrolment(
    uow: UnitOfWork,
    principal: Principal,
    enrolment_id: uuid.UUID,
    action: str,
    *,
    write: bool = False,
) -> Enrolment:
    """The enrolment if the caller may see it, else 404; writes lock its row until commit."""
    query = select(Enrolment).where(Enrolment.id == enrolment_id)
    if write:
        query = query.with_for_update()
    enrolment = (await uow.session.execute(query)).scalar_one_or_none()
    if enrolment is None or not can_see(principal, enrolment):
        uow.audit.refuse(
            action,
            ENROLMENT_RESOURCE,
            enrolment_id,
            NotFound("No monitoring with this id is visible to you."),
        )
    return enrolment


def _programme(
    uow: UnitOfWork, settings: MonitoringSettings, key: str, action: str, enrolment_id: uuid.UUID
) -> Programme:
    programme = settings.monitoring_programmes.get(key)
    if programme is None:
        refusal = Conflict(f"The programme {key} is no longer configured.", programme=key)
        uow.audit.refuse(action, ENROLMENT_RESOURCE, enrolment_id, refusal)
    return programme


async def _check_people(people: PersonLookup, principal: Principal, data: EnrolmentCreate) -> None:
    if data.patient_id is not None:
        await require_patient(people, principal, data.patient_id)
    if data.operator_id is not None:
        await require_person(
            people,
            data.operator_id,
            field="operator_id",
            fits=lambda person: person.role is Role.COORDINATOR and acts_for(principal, person),
            refusal=f"No coordinator {data.operator_id} of your organisation.",
        )


async def enrol(
    uow: UnitOfWork,
    principal: Principal,
    data: EnrolmentCreate,
    settings: MonitoringSettings,
    people: PersonLookup,
    now: datetime,
) -> Enrolment:
    """Puts a patient under a programme of the caller's organisation, which is responsible.
    The patient's account, if named, is one of that organisation's patients, and the operator
    one of its coordinators (else a 422 naming the field)."""
    action = "monitoring.enrol"
    organization_id = require_care_team(uow, principal, action)
    try:
        await _check_people(people, principal, data)
    except ProblemError as error:
        uow.audit.refuse(action, ENROLMENT_RESOURCE, None, error)
    programme = settings.monitoring_programmes.get(data.programme)
    if programme is None:
        known = sorted(settings.monitoring_programmes)
        refusal = Unprocessable(f"No monitoring programme {data.programme}.", programmes=known)
        uow.audit.refuse(action, ENROLMENT_RESOURCE, None, refusal)
    interval = data.interval_hours or programme.interval_hours
    first_due = data.first_check_in_due_at or now + timedelta(hours=interval)
    if first_due < now:
        uow.audit.refuse(
            action,
            ENROLMENT_RESOURCE,
            None,
            Unprocessable("The first check-in cannot be due in the past."),
        )
    operator_id = data.operator_id
    if operator_id is None and principal.role is Role.COORDINATOR:
        operator_id = principal.subject
    enrolment = Enrolment(
        id=uuid.uuid4(),
        programme=data.programme,
        status=E.ACTIVE,
        organization_id=organization_id,
        patient_id=data.patient_id,
        contact_phone=data.contact_phone,
        patient_timezone=data.patient_timezone,
        indication=data.indication,
        interval_hours=interval,
        operator_id=operator_id,
        enrolled_by=principal.subject,
        enrolled_at=now,
        next_due_at=first_due,
        created_at=now,
    )
    set_patient(enrolment, data.patient)
    try:
        async with uow.session.begin_nested():
            uow.session.add(enrolment)
            await uow.session.flush()
    except IntegrityError:
        # The partial unique index: one active enrolment per patient, programme and organisation.
        duplicate = Conflict("This patient is already under this programme's monitoring here.")
        uow.audit.refuse(action, ENROLMENT_RESOURCE, None, duplicate)
    record(uow, action, enrolment.id, f"{data.programme}, first check-in {first_due.isoformat()}")
    return enrolment


async def get_enrolment(
    uow: UnitOfWork, principal: Principal, enrolment_id: uuid.UUID
) -> Enrolment:
    enrolment = await load_enrolment(uow, principal, enrolment_id, "monitoring.read")
    record(uow, "monitoring.read", enrolment.id, enrolment.programme)
    return enrolment


async def list_enrolments(
    uow: UnitOfWork, principal: Principal, status: EnrolmentStatus | None
) -> list[Enrolment]:
    """A patient's own monitoring, or the caller's organisation's, the soonest due first."""
    action = "monitoring.list"
    query = select(Enrolment)
    if principal.role is Role.PATIENT:
        query = query.where(Enrolment.patient_id == principal.subject)
    else:
        organization_id = require_care_team(uow, principal, action)
        query = query.where(Enrolment.organization_id == organization_id)
    if status is not None:
        query = query.where(Enrolment.status == status)
    query = query.order_by(Enrolment.next_due_at, Enrolment.id).limit(MAX_LIST)
    enrolments = list(await uow.session.scalars(query))
    record(uow, action, None, f"{len(enrolments)} enrolments")
    return enrolments


def _local_midnight(now: datetime, zone: ZoneInfo, days_back: int) -> datetime:
    day = now.astimezone(zone).date() - timedelta(days=days_back)
    return datetime.combine(day, time(0), tzinfo=zone)


async def _earlier_readings(
    uow: UnitOfWork, enrolment: Enrolment, since: datetime
) -> list[Reading]:
    query = select(CheckIn.checked_at, CheckIn.vital_signs, CheckIn.symptoms).where(
        CheckIn.enrolment_id == enrolment.id, CheckIn.checked_at >= since
    )
    rows = (await uow.session.execute(query)).all()
    return [Reading(at, vitals, frozenset(symptoms)) for at, vitals, symptoms in rows]


async def check_in(
    uow: UnitOfWork,
    principal: Principal,
    enrolment_id: uuid.UUID,
    data: CheckInCreate,
    settings: MonitoringSettings,
    organizations: OrganizationLookup,
    now: datetime,
) -> CheckIn:
    """Records the answers and vital signs; crossing a threshold creates an urgent task. The
    next check-in is due one interval later."""
    action = "monitoring.check_in"
    enrolment = await load_enrolment(uow, principal, enrolment_id, action, write=True)
    _next(uow, enrolment, MonitoringAction.CHECK_IN)
    programme = _programme(uow, settings, enrolment.programme, action, enrolment.id)
    unknown = sorted(set(data.symptoms) - programme.symptoms)
    if unknown:
        refusal = Unprocessable(
            f"The programme does not ask about: {', '.join(unknown)}.",
            symptoms=sorted(programme.symptoms),
        )
        uow.audit.refuse(action, ENROLMENT_RESOURCE, enrolment.id, refusal)
    # Days, and so sustained thresholds, are the responsible organisation's local days.
    zone = ZoneInfo((await organizations(enrolment.organization_id)).timezone)
    vitals = data.vital_signs.model_dump(exclude_none=True)
    reading = Reading(now, vitals, frozenset(data.symptoms))
    since = _local_midnight(now, zone, longest_history(programme))
    escalation = evaluate(programme, reading, await _earlier_readings(uow, enrolment, since), zone)
    entry = CheckIn(
        id=uuid.uuid4(),
        enrolment_id=enrolment.id,
        checked_at=now,
        recorded_by=principal.subject,
        recorder_role=principal.role.value,
        vital_signs=vitals,
        symptoms=sorted(set(data.symptoms)),
        wellbeing=data.wellbeing,
        note=data.note,
        escalation=escalation.kind if escalation else None,
        fired_rules=escalation.rules if escalation else [],
    )
    uow.session.add(entry)
    enrolment.last_check_in_at = now
    enrolment.next_due_at = now + timedelta(hours=enrolment.interval_hours)
    await uow.session.flush()
    record(uow, action, enrolment.id, f"check-in {entry.id}")
    if escalation is not None:
        entry.task_id = await escalate(uow, enrolment, entry.id, escalation, now)
    return entry


async def list_check_ins(
    uow: UnitOfWork, principal: Principal, enrolment_id: uuid.UUID
) -> list[CheckIn]:
    enrolment = await load_enrolment(uow, principal, enrolment_id, "monitoring.check_ins")
    query = (
        select(CheckIn)
        .where(CheckIn.enrolment_id == enrolment.id)
        .order_by(CheckIn.checked_at.desc(), CheckIn.id)
        .limit(MAX_LIST)
    )
    check_ins = list(await uow.session.scalars(query))
    record(uow, "monitoring.check_ins", enrolment.id, f"{len(check_ins)} check-ins")
    return check_ins


async def discharge(
    uow: UnitOfWork,
    principal: Principal,
    enrolment_id: uuid.UUID,
    data: DischargeRequest,
    now: datetime,
) -> Enrolment:
    action = "monitoring.discharge"
    enrolment = await load_enrolment(uow, principal, enrolment_id, action, write=True)
    if care_team_of(principal) != enrolment.organization_id:
        refusal = Forbidden("The responsible organisation's coordinators and doctors discharge.")
        uow.audit.refuse(action, ENROLMENT_RESOURCE, enrolment.id, refusal)
    enrolment.status = _next(uow, enrolment, MonitoringAction.DISCHARGE)
    enrolment.discharged_at, enrolment.discharged_by = now, principal.subject
    enrolment.discharge_reason, enrolment.discharge_note = data.reason, data.note
    await uow.session.flush()
    record(uow, action, enrolment.id, data.reason.value)
    return enrolment
