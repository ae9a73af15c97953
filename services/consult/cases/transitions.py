"""Rules of a consultation case: the transition table, who may do what, and the audit of each."""

import uuid
from datetime import datetime

from sqlalchemy import select

from services.common.audit import Outcome
from services.common.auth import Principal
from services.common.db import utcnow
from services.common.errors import Conflict, Forbidden, NotFound, ProblemError
from services.common.outbox import EventType
from services.common.uow import UnitOfWork
from services.consult.cases.access import (
    acts_for_patient,
    can_see,
    invited_to_consilium,
    is_requester,
    is_target_specialist,
)
from services.consult.cases.enums import CaseAction, CaseKind, CaseStatus, MessageKind
from services.consult.cases.events import case_event
from services.consult.cases.models import Case, Message
from services.consult.scopes import require_scope

A, S = CaseAction, CaseStatus
RESOURCE = "consult_case"

# (current status, action) -> next status; None means "back to where info was requested".
TRANSITIONS: dict[tuple[CaseStatus, CaseAction], CaseStatus | None] = {
    (S.DRAFT, A.EDIT): S.DRAFT,
    (S.DRAFT, A.SUBMIT): S.SUBMITTED,
    (S.DRAFT, A.CANCEL): S.CANCELLED,
    (S.SUBMITTED, A.ACCEPT): S.ACCEPTED,
    (S.SUBMITTED, A.REQUEST_INFO): S.INFO_REQUESTED,
    (S.SUBMITTED, A.DECLINE): S.DECLINED,
    (S.SUBMITTED, A.CANCEL): S.CANCELLED,
    (S.ACCEPTED, A.START): S.IN_PROGRESS,
    (S.ACCEPTED, A.CONVENE): S.IN_PROGRESS,
    (S.ACCEPTED, A.REQUEST_INFO): S.INFO_REQUESTED,
    (S.ACCEPTED, A.DECLINE): S.DECLINED,
    (S.ACCEPTED, A.CANCEL): S.CANCELLED,
    (S.IN_PROGRESS, A.REQUEST_INFO): S.INFO_REQUESTED,
    (S.IN_PROGRESS, A.CONCLUDE): S.CONCLUDED,
    (S.IN_PROGRESS, A.CONVENE): S.IN_PROGRESS,
    (S.IN_PROGRESS, A.CANCEL): S.CANCELLED,
    (S.INFO_REQUESTED, A.EDIT): S.INFO_REQUESTED,
    (S.INFO_REQUESTED, A.PROVIDE_INFO): None,
    (S.INFO_REQUESTED, A.CANCEL): S.CANCELLED,
    (S.CONCLUDED, A.AMEND): S.CONCLUDED,
}
REQUESTER_ACTIONS = frozenset({A.EDIT, A.SUBMIT, A.PROVIDE_INFO, A.CANCEL})
# A patient's request is submitted as it is made and never edited: it is answered or withdrawn.
PATIENT_ACTIONS = frozenset({A.PROVIDE_INFO, A.CANCEL})
# Once a specialist has taken the case, only they act on it; accepting is open to the team.
ASSIGNEE_ACTIONS = frozenset({A.START, A.REQUEST_INFO, A.DECLINE, A.CONCLUDE, A.AMEND, A.CONVENE})


def next_status(
    current: CaseStatus, action: CaseAction, resume_status: CaseStatus | None = None
) -> CaseStatus:
    """The status `action` leads to from `current`, or a 409 naming the current status."""
    if (current, action) not in TRANSITIONS:
        raise Conflict(
            f"Cannot {action.value.replace('_', ' ')} a case that is {current.value}.",
            current_status=current.value,
        )
    target = TRANSITIONS[(current, action)]
    if target is not None:
        return target
    if resume_status is None:
        raise Conflict(
            f"The case is {current.value} but records no status to resume.",
            current_status=current.value,
        )
    return resume_status


def _authorise_requester(principal: Principal, case: Case, action: CaseAction) -> None:
    if case.kind is not CaseKind.PATIENT_REQUEST:
        if not is_requester(principal, case):
            raise Forbidden("Only the requesting organisation's medics can do this.")
    elif action not in PATIENT_ACTIONS:
        raise Forbidden("A patient's request is not edited: answer the question or withdraw it.")
    elif not acts_for_patient(principal, case):
        raise Forbidden("Only the patient, or a coordinator of their organisation, can do this.")


def authorise(principal: Principal, case: Case, action: CaseAction) -> None:
    """Raises `Forbidden` when a caller who can see the case may not take `action` on it."""
    if action in REQUESTER_ACTIONS:
        _authorise_requester(principal, case, action)
        return
    if not is_target_specialist(principal, case):
        raise Forbidden("Only specialists of the addressed organisation and specialty can do this.")
    # A patient's request routed to their own specialist is theirs to accept, too.
    routed = case.kind is CaseKind.PATIENT_REQUEST and action is A.ACCEPT
    if (action in ASSIGNEE_ACTIONS or routed) and case.assignee_id not in {None, principal.subject}:
        raise Forbidden("Only the specialist assigned to this case can do this.")


def audit(
    uow: UnitOfWork,
    action: str,
    case_id: uuid.UUID | None,
    outcome: Outcome = Outcome.SUCCESS,
    detail: str | None = None,
    *,
    resource: str = RESOURCE,
) -> None:
    uow.audit.record(action, resource, case_id, outcome, detail=detail)


async def load_case(
    uow: UnitOfWork,
    principal: Principal,
    case_id: uuid.UUID,
    action: str,
    *,
    write: bool = False,
) -> Case:
    """The case if the caller may see it (or is invited to its consilium), else 404; writes
    lock its row until commit.

    The row lock (SQLite's write lock, taken at BEGIN) serialises concurrent writers of one
    case, so two specialists accepting at once see each other and only one wins.
    """
    try:
        require_scope(principal, write=write)
    except Forbidden as error:
        uow.audit.refuse(action, RESOURCE, case_id, error)
    query = select(Case).where(Case.id == case_id)
    if write:
        query = query.with_for_update()
    case = (await uow.session.execute(query)).scalar_one_or_none()
    if case is None or not (
        can_see(principal, case) or await invited_to_consilium(uow.session, principal, case)
    ):
        uow.audit.refuse(
            action, RESOURCE, case_id, NotFound("No case with this id is visible to you.")
        )
    return case


def check_action(
    uow: UnitOfWork, principal: Principal, case: Case, action: CaseAction
) -> CaseStatus:
    """Authorises `action` and returns the status it leads to, auditing a refusal."""
    audit_action = f"case.{action.value}"
    try:
        authorise(principal, case, action)
        return next_status(case.status, action, case.resume_status)
    except ProblemError as error:
        uow.audit.refuse(audit_action, RESOURCE, case.id, error)


async def _act(
    uow: UnitOfWork, principal: Principal, case_id: uuid.UUID, action: CaseAction
) -> tuple[Case, CaseStatus]:
    case = await load_case(uow, principal, case_id, f"case.{action.value}", write=True)
    return case, check_action(uow, principal, case, action)


async def _finish(uow: UnitOfWork, case: Case, action: CaseAction) -> Case:
    await uow.session.flush()
    audit(uow, f"case.{action.value}", case.id)
    return case


async def accept_case(
    uow: UnitOfWork, principal: Principal, case_id: uuid.UUID, *, now: datetime | None = None
) -> Case:
    case, status = await _act(uow, principal, case_id, A.ACCEPT)
    case.status = status
    case.assignee_id = principal.subject
    case.accepted_at = now or utcnow()
    await case_event(uow, EventType.CASE_ACCEPTED, case, accepted_at=case.accepted_at)
    return await _finish(uow, case, A.ACCEPT)


async def start_case(uow: UnitOfWork, principal: Principal, case_id: uuid.UUID) -> Case:
    case, status = await _act(uow, principal, case_id, A.START)
    case.status = status
    return await _finish(uow, case, A.START)


def new_message(case: Case, principal: Principal, kind: MessageKind, text: str) -> Message:
    return Message(
        case_id=case.id,
        author_id=principal.subject,
        author_role=principal.role.value,
        kind=kind,
        text=text,
        created_at=utcnow(),
    )


async def request_info(
    uow: UnitOfWork, principal: Principal, case_id: uuid.UUID, message: str
) -> Case:
    """Sends the case back to the medic, remembering where to resume."""
    case, status = await _act(uow, principal, case_id, A.REQUEST_INFO)
    case.resume_status, case.status = case.status, status
    uow.session.add(new_message(case, principal, MessageKind.INFO_REQUEST, message))
    await case_event(uow, EventType.CASE_INFO_REQUESTED, case)  # what was asked stays in consult
    return await _finish(uow, case, A.REQUEST_INFO)


async def decline_case(
    uow: UnitOfWork,
    principal: Principal,
    case_id: uuid.UUID,
    reason: str,
    *,
    now: datetime | None = None,
) -> Case:
    case, status = await _act(uow, principal, case_id, A.DECLINE)
    case.status = status
    case.decline_reason = reason
    case.closed_at = now or utcnow()
    return await _finish(uow, case, A.DECLINE)


async def cancel_case(
    uow: UnitOfWork,
    principal: Principal,
    case_id: uuid.UUID,
    reason: str | None,
    *,
    now: datetime | None = None,
) -> Case:
    case, status = await _act(uow, principal, case_id, A.CANCEL)
    case.status = status
    case.cancel_reason = reason
    case.closed_at = now or utcnow()
    return await _finish(uow, case, A.CANCEL)
