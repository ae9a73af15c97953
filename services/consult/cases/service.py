"""Writing a case: creating, reading, editing, submitting, answering the specialist's question."""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy.orm.exc import StaleDataError

from gateway.client import Organization, OrganizationKind
from services.common.auth import Principal
from services.common.db import utcnow
from services.common.errors import (
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
    Unprocessable,
)
from services.common.outbox import EventType
from services.common.uow import UnitOfWork
from services.consult.cases.access import REQUESTER_ROLES
from services.consult.cases.deadlines import compute_due_at
from services.consult.cases.enums import CaseAction, CaseStatus, MessageKind
from services.consult.cases.events import case_event
from services.consult.cases.models import Case
from services.consult.cases.schemas import Attachment, CaseCreate, CaseUpdate, InfoResponse
from services.consult.cases.settings import CasesSettings
from services.consult.cases.transitions import RESOURCE as CASE_RESOURCE
from services.consult.cases.transitions import audit, check_action, load_case, new_message
from services.consult.ports import OrganizationLookup
from services.consult.scopes import require_scope
from services.consult.values import Urgency, set_patient


@dataclass(frozen=True)
class AttachFile:
    """The files service, as a case's attachments need it, both as the caller."""

    # During the case's transaction: is the file (by id) a complete file of the caller's, not
    # pinned to another case than this one (by id)? Says what it is; 404 if not theirs, 409 if
    # pinned elsewhere.
    check: Callable[[uuid.UUID, uuid.UUID], Awaitable[Attachment]]
    # Once the case is stored: binds the file to the case in the files service.
    pin: Callable[[uuid.UUID, uuid.UUID], Awaitable[None]]


async def _target(organizations: OrganizationLookup, organization_id: uuid.UUID) -> Organization:
    target = await organizations(organization_id)
    if target.kind != OrganizationKind.REGIONAL_CENTRE:
        raise Unprocessable("Consultations are addressed to a regional centre.")
    return target


def _due_at(
    case: Case, urgency: Urgency, target: Organization, settings: CasesSettings, now: datetime
) -> datetime:
    """A draft's deadline is provisional, as if submitted now; a submitted case's runs from then."""
    start = case.submitted_at or now
    return compute_due_at(urgency, start, target, settings.deadline_policy(case.region))


def _require_requester(
    uow: UnitOfWork, principal: Principal, action: str, *, write: bool
) -> uuid.UUID:
    """The caller's organisation, if they are one who opens cases; else a refusal."""
    try:
        require_scope(principal, write=write)
        if principal.role not in REQUESTER_ROLES or principal.organization_id is None:
            raise Forbidden("Only district medics and API clients of an organisation open cases.")
    except Forbidden as error:
        uow.audit.refuse(action, CASE_RESOURCE, None, error)
    return principal.organization_id


async def deadlines_if_submitted(
    uow: UnitOfWork,
    principal: Principal,
    target_id: uuid.UUID,
    organizations: OrganizationLookup,
    settings: CasesSettings,
    now: datetime,
) -> dict[Urgency, datetime]:
    """When a case the caller opens to `target_id` would be due, by urgency, were it submitted
    `now`: the rule `submit` applies, so a form can show it before anything is stored."""
    organization_id = _require_requester(uow, principal, "case.deadlines", write=False)
    target = await _target(organizations, target_id)
    region = principal.region or (await organizations(organization_id)).region
    policy = settings.deadline_policy(region)
    return {urgency: compute_due_at(urgency, now, target, policy) for urgency in Urgency}


async def create_case(
    uow: UnitOfWork,
    principal: Principal,
    data: CaseCreate,
    organizations: OrganizationLookup,
    settings: CasesSettings,
    attach_file: AttachFile,
    *,
    now: datetime | None = None,
) -> Case:
    """A new draft for the caller's organisation, submitted at once when `data.submit`."""
    organization_id = _require_requester(uow, principal, "case.create", write=True)
    target = await _target(organizations, data.target_organization_id)
    if target.id == organization_id:
        raise Unprocessable("An organisation cannot consult itself.")
    region = principal.region or (await organizations(organization_id)).region
    now = now or utcnow()
    case = Case(
        id=uuid.uuid4(),
        status=CaseStatus.DRAFT,
        requester_id=principal.subject,
        requesting_organization_id=organization_id,
        target_organization_id=target.id,
        specialty=data.specialty,
        region=region,
        urgency=data.urgency,
        mode=data.mode,
        question=data.question,
        summary=data.summary.model_dump(mode="json"),
        created_at=now,
    )
    set_patient(case, data.patient)
    await attach_files(uow, case, data.attachment_ids, attach_file)
    # Provisional until submission, but never empty: the draft list sorts by it too.
    case.due_at = _due_at(case, data.urgency, target, settings, now)
    uow.session.add(case)
    await uow.session.flush()
    audit(uow, "case.create", case.id)
    if data.submit:
        await _submit(uow, principal, case, organizations, settings, now)
    return case


async def attach_files(
    uow: UnitOfWork, case: Case, file_ids: list[uuid.UUID], attach_file: AttachFile
) -> None:
    """Sets the case's attachments; each new one must be a complete file of the caller (or of
    their organisation), which the files service checks now. It is pinned to the case only
    once the case is stored: a rollback leaves no file bound to a case that never was."""
    known = {item["id"]: item for item in case.attachments or []}
    attachments = []
    for file_id in dict.fromkeys(file_ids):
        if str(file_id) not in known:
            try:
                attachment = await attach_file.check(file_id, case.id)
            except (NotFound, Forbidden):
                refusal = Unprocessable(
                    f"Attachment {file_id} is not a complete file of yours or your organisation's.",
                    file_id=str(file_id),
                )
                uow.audit.refuse("case.attach", CASE_RESOURCE, case.id, refusal)
            known[str(file_id)] = attachment.model_dump(mode="json")
            uow.after_commit.append(partial(attach_file.pin, file_id, case.id))
        attachments.append(known[str(file_id)])
    case.attachments = attachments
    case.attachment_ids = [item["id"] for item in attachments]


async def get_case(uow: UnitOfWork, principal: Principal, case_id: uuid.UUID) -> Case:
    case = await load_case(uow, principal, case_id, "case.read")
    audit(uow, "case.read", case.id)
    return case


def _changed_meanwhile(version: int | None) -> PreconditionFailed:
    if version is None:
        return PreconditionFailed("The case was changed at the same moment; read it again.")
    return PreconditionFailed(
        f"The case has changed since you read it: it is at version {version}. Read it again "
        "and reapply your edit.",
        headers={"ETag": f'"{version}"'},
        current_version=version,
    )


async def update_case(
    uow: UnitOfWork,
    principal: Principal,
    case_id: uuid.UUID,
    data: CaseUpdate,
    organizations: OrganizationLookup,
    settings: CasesSettings,
    attach_file: AttachFile,
    *,
    if_match: frozenset[int] | None = None,
    now: datetime | None = None,
) -> Case:
    """Edits a draft, or a case sent back for more information; with `if_match`, only if the
    case is still at one of those versions (optimistic concurrency between two editors)."""
    case = await load_case(uow, principal, case_id, "case.edit", write=True)
    check_action(uow, principal, case, CaseAction.EDIT)
    if if_match is not None and case.version not in if_match:
        uow.audit.refuse("case.edit", CASE_RESOURCE, case.id, _changed_meanwhile(case.version))
    rerouted = {data.target_organization_id, data.specialty} - {None}
    if rerouted and case.status is not CaseStatus.DRAFT:
        uow.audit.refuse(
            "case.edit",
            CASE_RESOURCE,
            case.id,
            Conflict(
                f"Only a draft can change target or specialty; the case is {case.status.value}.",
                current_status=case.status.value,
            ),
        )
    if data.patient is not None:
        set_patient(case, data.patient)
    if data.specialty is not None:
        case.specialty = data.specialty
    if data.mode is not None:
        case.mode = data.mode
    if data.question is not None:
        case.question = data.question
    if data.summary is not None:
        case.summary = data.summary.model_dump(mode="json")
    if data.attachment_ids is not None:
        await attach_files(uow, case, data.attachment_ids, attach_file)
    if data.urgency is not None or data.target_organization_id is not None:
        target = await _target(
            organizations, data.target_organization_id or case.target_organization_id
        )
        if target.id == case.requesting_organization_id:
            raise Unprocessable("An organisation cannot consult itself.")
        case.target_organization_id = target.id
        case.urgency = data.urgency or case.urgency
        case.due_at = _due_at(case, case.urgency, target, settings, now or utcnow())
    try:
        # The UPDATE stores only if the row is still at the version read (`version_id_col`);
        # the row lock of `load_case` makes losing here rare, but it is the database's word.
        await uow.session.flush()
    except StaleDataError:
        uow.audit.refuse("case.edit", CASE_RESOURCE, case.id, _changed_meanwhile(None))
    audit(uow, "case.edit", case.id)
    return case


async def _submit(
    uow: UnitOfWork,
    principal: Principal,
    case: Case,
    organizations: OrganizationLookup,
    settings: CasesSettings,
    now: datetime,
) -> None:
    case.status = check_action(uow, principal, case, CaseAction.SUBMIT)
    target = await _target(organizations, case.target_organization_id)
    case.submitted_at = now
    case.due_at = _due_at(case, case.urgency, target, settings, now)
    await uow.session.flush()
    await case_event(uow, EventType.CASE_SUBMITTED, case)
    audit(uow, "case.submit", case.id)


async def submit_case(
    uow: UnitOfWork,
    principal: Principal,
    case_id: uuid.UUID,
    organizations: OrganizationLookup,
    settings: CasesSettings,
    *,
    now: datetime | None = None,
) -> Case:
    """Sends a draft to the regional centre; the deadline now runs from this moment."""
    case = await load_case(uow, principal, case_id, "case.submit", write=True)
    await _submit(uow, principal, case, organizations, settings, now or utcnow())
    return case


async def provide_info(
    uow: UnitOfWork,
    principal: Principal,
    case_id: uuid.UUID,
    data: InfoResponse,
    attach_file: AttachFile,
) -> Case:
    """Answers the specialist's question, with the files asked for; the case resumes where it
    was when the question was asked."""
    case = await load_case(uow, principal, case_id, "case.provide_info", write=True)
    status = check_action(uow, principal, case, CaseAction.PROVIDE_INFO)
    attached = [uuid.UUID(file_id) for file_id in case.attachment_ids]
    await attach_files(uow, case, [*attached, *data.attachment_ids], attach_file)
    case.status, case.resume_status = status, None
    uow.session.add(new_message(case, principal, MessageKind.INFO_RESPONSE, data.message))
    await uow.session.flush()
    audit(uow, "case.provide_info", case.id)
    return case
