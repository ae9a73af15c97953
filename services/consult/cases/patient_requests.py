"""Patients' own requests to the specialist who saw them in person, and their answers.

The remote channel may only correct a plan made face to face (323-FZ art. 36.2), so the
scheduling service is asked first whether the patient has a fulfilled in-person visit in the
specialty; without one the request is refused with the reason and where to book that visit.
A request goes to that visit's specialist (to their organisation's specialty queue while they
are on leave) and is answered in writing or with a remote follow-up booked in one step. A
coordinator of the patient's organisation (the hotline operator) may file it for them.
"""

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select

from services.common.auth import Principal, Role
from services.common.db import utcnow
from services.common.errors import Conflict, Forbidden, NotFound, ProblemError, Unprocessable
from services.common.outbox import EventType
from services.common.people import PersonLookup, require_patient
from services.common.uow import UnitOfWork
from services.consult.cases.deadlines import compute_due_at
from services.consult.cases.enums import CaseAction, CaseKind, CaseStatus
from services.consult.cases.events import case_event
from services.consult.cases.models import Case
from services.consult.cases.queue import SUMMARY_COLUMNS, summaries
from services.consult.cases.schemas import CaseSummary, PatientRequestCreate
from services.consult.cases.service import AttachFile, attach_files
from services.consult.cases.settings import CasesSettings
from services.consult.cases.transitions import RESOURCE as CASE_RESOURCE
from services.consult.cases.transitions import audit, check_action, load_case
from services.consult.ports import OrganizationLookup
from services.consult.scopes import require_scope
from services.consult.values import Urgency, set_patient

MAX_LIST = 100


class VisitOnRecord(BaseModel):
    """The fulfilled in-person visit a request follows, as the scheduling service reports it."""

    episode_id: uuid.UUID
    practitioner_id: uuid.UUID
    organization_id: uuid.UUID  # where the visit was held: the specialist's organisation
    requesting_organization_id: uuid.UUID  # whose patient
    practitioner_away_until: datetime | None


class Eligibility(BaseModel):
    visit: VisitOnRecord | None  # None: not eligible, for `reason`
    reason: str | None
    detail: str
    book_url: str


# (patient, specialty, episode if named) -> the scheduling service's answer, asked as the caller.
CheckEligibility = Callable[[uuid.UUID, str, uuid.UUID | None], Awaitable[Eligibility]]
# (episode, case, specialist, start) -> the id of the remote visit booked in the episode.
BookFollowUp = Callable[[uuid.UUID, uuid.UUID, uuid.UUID, datetime], Awaitable[uuid.UUID]]


def _whose(principal: Principal, data: PatientRequestCreate) -> uuid.UUID:
    """The patient asks for themselves; a coordinator names the patient they act for."""
    if principal.role is Role.PATIENT:
        if data.patient_id not in {None, principal.subject}:
            raise Forbidden("A patient files requests for themselves only.")
        return principal.subject
    if principal.role is not Role.COORDINATOR or principal.organization_id is None:
        raise Forbidden("Patients file their own requests; coordinators on a patient's behalf.")
    if data.patient_id is None:
        raise Unprocessable("Name the patient (`patient_id`) you file this request for.")
    return data.patient_id


def _worsening_signs(reported: list[str], settings: CasesSettings) -> list[str]:
    unknown = sorted(set(reported) - settings.worsening_signs)
    if unknown:
        raise Unprocessable(
            f"Unknown worsening signs: {', '.join(unknown)}.",
            known_signs=sorted(settings.worsening_signs),
        )
    return sorted(set(reported))


async def create_request(
    uow: UnitOfWork,
    principal: Principal,
    data: PatientRequestCreate,
    organizations: OrganizationLookup,
    settings: CasesSettings,
    check_eligibility: CheckEligibility,
    attach_file: AttachFile,
    people: PersonLookup,
    *,
    now: datetime | None = None,
) -> Case:
    """Submitted at once to the specialist of the in-person visit, or to their organisation's
    specialty queue while they are on leave; planned, or urgent and flagged when the patient
    reports a worsening sign. A coordinator's `patient_id` must be a patient of their
    organisation in the directory (else a 422 naming it)."""
    action = "case.create"
    try:
        require_scope(principal, write=True)
        patient_id = _whose(principal, data)
        signs = _worsening_signs(data.worsening_signs, settings)
        if principal.role is not Role.PATIENT:
            await require_patient(people, principal, patient_id)
    except ProblemError as error:
        uow.audit.refuse(action, CASE_RESOURCE, None, error)
    eligibility = await check_eligibility(patient_id, data.specialty, data.episode_id)
    visit = eligibility.visit
    if visit is None:
        refusal = Conflict(
            f"A remote request follows an in-person visit. {eligibility.detail}",
            reason=eligibility.reason,
            book_url=eligibility.book_url,
        )
        uow.audit.refuse(action, CASE_RESOURCE, None, refusal)
    if principal.role is Role.COORDINATOR and (
        principal.organization_id != visit.requesting_organization_id
    ):
        outsider = Forbidden("Coordinators file requests for their own organisation's patients.")
        uow.audit.refuse(action, CASE_RESOURCE, None, outsider)
    requesting = await organizations(visit.requesting_organization_id)
    target = await organizations(visit.organization_id)
    now = now or utcnow()
    urgency = Urgency.URGENT if signs else Urgency.PLANNED
    away = visit.practitioner_away_until
    case = Case(
        id=uuid.uuid4(),
        kind=CaseKind.PATIENT_REQUEST,
        status=CaseStatus.SUBMITTED,
        requester_id=principal.subject,
        requesting_organization_id=visit.requesting_organization_id,
        target_organization_id=visit.organization_id,
        specialty=data.specialty,
        region=requesting.region,
        assignee_id=None if away else visit.practitioner_id,
        urgency=urgency,
        mode=data.mode,
        question=data.question,
        summary={},
        patient_id=patient_id,
        episode_id=visit.episode_id,
        worsening_signs=signs,
        flagged=bool(signs),
        due_at=compute_due_at(urgency, now, target, settings.deadline_policy(requesting.region)),
        submitted_at=now,
        created_at=now,
    )
    set_patient(case, data.patient)
    await attach_files(uow, case, data.attachment_ids, attach_file)
    uow.session.add(case)
    await uow.session.flush()
    routed = (
        f"to the {case.specialty} queue, specialist {visit.practitioner_id} away until "
        f"{away.isoformat()}"
        if away
        else f"to specialist {visit.practitioner_id}"
    )
    audit(uow, action, case.id, detail=f"patient request of {patient_id}, routed {routed}")
    audit(uow, "case.submit", case.id)
    await case_event(uow, EventType.CASE_SUBMITTED, case)
    return case


async def list_own_requests(uow: UnitOfWork, principal: Principal) -> list[CaseSummary]:
    """A patient's requests, newest first; staff work from the queue."""
    if principal.role is not Role.PATIENT:
        uow.audit.refuse(
            "case.list", CASE_RESOURCE, None, Forbidden("Patients list their own requests here.")
        )
    query = (
        select(*SUMMARY_COLUMNS)
        .where(Case.patient_id == principal.subject)
        .order_by(Case.created_at.desc(), Case.id)
        .limit(MAX_LIST)
    )
    found = summaries((await uow.session.execute(query)).all())
    audit(uow, "case.list", None, detail=f"{len(found)} own requests")
    return found


async def book_follow_up(
    uow: UnitOfWork,
    principal: Principal,
    case_id: uuid.UUID,
    start: datetime,
    book: BookFollowUp,
    *,
    now: datetime | None = None,
) -> Case:
    """Answers the request with a remote visit booked in its episode, in one step: the case is
    concluded and points at the appointment. Booking stays the scheduling service's to allow
    (the episode's specialist plans its follow-ups); its refusal leaves the case as it was."""
    action = "case.follow_up"
    case = await load_case(uow, principal, case_id, action, write=True)
    if case.kind is not CaseKind.PATIENT_REQUEST or case.episode_id is None:
        uow.audit.refuse(
            action,
            CASE_RESOURCE,
            case.id,
            Conflict("Only a patient's request is answered with a visit."),
        )
    status = check_action(uow, principal, case, CaseAction.CONCLUDE)
    try:
        appointment_id = await book(case.episode_id, case.id, principal.subject, start)
    except (NotFound, Forbidden) as error:
        # Not this case's 404 or 403: the case is there, the booking was refused.
        refusal = Conflict(f"The scheduling service refused the follow-up: {error.detail}")
        uow.audit.refuse(action, CASE_RESOURCE, case.id, refusal)
    except ProblemError as error:
        uow.audit.refuse(action, CASE_RESOURCE, case.id, error)
    case.follow_up_appointment_id = appointment_id
    case.status = status
    case.concluded_at = case.closed_at = now or utcnow()
    await uow.session.flush()
    await case_event(
        uow, EventType.CASE_CONCLUDED, case, answer="follow_up_visit",
        follow_up_appointment_id=appointment_id, concluded_at=case.concluded_at,
    )  # fmt: skip
    audit(uow, action, case.id, detail=f"appointment {appointment_id}")
    return case
