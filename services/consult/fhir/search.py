"""Reads behind consult's FHIR views: the same access rules and audit as the native routes.

Reads by id go through the native loaders (`load_case`, `load_enrolment`); searches filter with
the queue's visibility rule (`visible_cases`) or a patient's own, and with monitoring's care
team, and each one is audited as the native lists are. Documents are the attachments the cases
list, with the metadata the files service gave when they were attached.
"""

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, String, cast, false, or_, select

from services.common.auth import Principal, Role
from services.common.errors import Forbidden, NotFound
from services.common.fhir_documents import DOCUMENT_STATUSES
from services.common.fhir_search import (
    Search,
    matching_statuses,
    one_page,
    reference_token,
    split_page,
)
from services.common.uow import UnitOfWork
from services.consult.cases.access import MEMBER_STATUSES, addressed_to, can_list, visible_cases
from services.consult.cases.consilium.models import ConsiliumInvitation
from services.consult.cases.enums import CaseStatus
from services.consult.cases.models import Case, Conclusion
from services.consult.cases.schemas import Attachment
from services.consult.cases.transitions import RESOURCE as CASE_RESOURCE
from services.consult.cases.transitions import audit, load_case
from services.consult.fhir.resources import REPORT_STATUSES
from services.consult.monitoring.access import record, require_care_team
from services.consult.monitoring.models import CheckIn, Enrolment
from services.consult.monitoring.service import load_enrolment
from services.consult.scopes import require_scope

Cursor = tuple[datetime, uuid.UUID] | None
DocumentRow = tuple[Attachment, Case]
# A search for documents without a case reads this many of the caller's most recent cases.
MAX_DOCUMENT_CASES = 200
Query = TypeVar("Query", bound=Select[*tuple[Any, ...]])
Row = TypeVar("Row", Conclusion, CheckIn)


def _visible_cases(uow: UnitOfWork, principal: Principal, action: str) -> ColumnElement[bool]:
    """A patient's own cases; staff's as their work queue shows them (else 403, audited)."""
    try:
        require_scope(principal, write=False)
        if principal.role is Role.PATIENT:
            return Case.patient_id == principal.subject
        if not can_list(principal):
            raise Forbidden("Your role does not work with consultation cases.")
    except Forbidden as error:
        uow.audit.refuse(action, CASE_RESOURCE, None, error)
    return visible_cases(principal)


def _of_patient(query: Query, patient: Any, reference: Any, search: Search) -> Query:
    if search.patient_id is not None:
        query = query.where(patient == search.patient_id)
    if search.patient_identifier is not None:
        query = query.where(reference == search.patient_identifier)
    return query


async def search_cases(
    uow: UnitOfWork,
    principal: Principal,
    search: Search,
    statuses: Mapping[CaseStatus, str],
    *,
    by_deadline: bool,
) -> tuple[list[Case], Cursor]:
    """Cases by when they were opened (ServiceRequest) or by deadline (Task)."""
    query = select(Case).where(_visible_cases(uow, principal, "case.list"))
    query = _of_patient(query, Case.patient_id, Case.patient_reference, search)
    if (owner := reference_token(search, "owner", "Practitioner")) is not None:
        query = query.where(Case.assignee_id == owner)
    wanted = matching_statuses(statuses, search)
    if wanted is not None:
        query = query.where(Case.status.in_(wanted))
    sort = Case.due_at if by_deadline else Case.created_at
    rows = (await uow.session.scalars(one_page(query, sort, Case.id, search))).all()
    page, after = split_page(
        rows, search, lambda case: (case.due_at if by_deadline else case.created_at, case.id)
    )
    audit(uow, "case.list", None, detail=f"FHIR: {len(page)} cases")
    return page, after


def _documents(cases: Sequence[Case], search: Search) -> list[DocumentRow]:
    """The cases' attachments the search asks for, in (stored, id) order after its cursor."""
    if search.statuses is not None and DOCUMENT_STATUSES[0] not in search.statuses:
        return []
    rows = [(Attachment.model_validate(item), case) for case in cases for item in case.attachments]
    wanted = [
        row
        for row in rows
        if (search.start is None or _sort_key(row)[0] >= search.start)
        and (search.end is None or _sort_key(row)[0] < search.end)
        and (search.after is None or _sort_key(row) > search.after)
    ]
    return sorted(wanted, key=_sort_key)


def _sort_key(row: DocumentRow) -> tuple[datetime, uuid.UUID]:
    """When the file was stored; an attachment listed before consult kept that sorts by when
    its case was opened."""
    attachment, case = row
    return attachment.stored_at or case.created_at, attachment.id


def _is_patients(case: Case, search: Search) -> bool:
    """Whether the case is of the patient the search names, if it names one."""
    by_id = search.patient_id is None or case.patient_id == search.patient_id
    by_reference = (
        search.patient_identifier is None or case.patient_reference == search.patient_identifier
    )
    return by_id and by_reference


async def search_documents(
    uow: UnitOfWork, principal: Principal, search: Search
) -> tuple[list[DocumentRow], Cursor]:
    """The attachments of one case (`related`), of a patient's cases, or of every case the
    caller sees (the most recent `MAX_DOCUMENT_CASES` of them). A case the caller may not
    read has none to show: the denial is on record and the bundle is empty."""
    case_id = reference_token(search, "related", "ServiceRequest")
    cases: Sequence[Case]
    if case_id is not None:
        try:
            case = await load_case(uow, principal, case_id, "attachment.list")
        except NotFound:
            case = None
        cases = [case] if case is not None and _is_patients(case, search) else []
    else:
        query = select(Case).where(_visible_cases(uow, principal, "attachment.list"))
        query = _of_patient(query, Case.patient_id, Case.patient_reference, search)
        query = query.order_by(Case.created_at.desc(), Case.id.desc()).limit(MAX_DOCUMENT_CASES)
        cases = (await uow.session.scalars(query)).all()
    rows = _documents(cases, search)[: search.count + 1]
    page, after = split_page(rows, search, _sort_key)
    for listed in dict.fromkeys(case.id for _, case in page):
        audit(uow, "attachment.list", listed, detail="FHIR")
    return page, after


def _cases_read(principal: Principal) -> ColumnElement[bool] | None:
    """The SQL form of `load_case`'s rule: the cases a caller sees, and a specialist the
    consilia they are invited to; None for a role that works with no cases."""
    if principal.role is Role.PATIENT:
        return Case.patient_id == principal.subject
    if not can_list(principal):
        return None
    seen = visible_cases(principal)
    if principal.role is not Role.SPECIALIST:
        return seen
    invited = select(ConsiliumInvitation.case_id).where(
        addressed_to(principal), ConsiliumInvitation.status.in_(sorted(MEMBER_STATUSES))
    )
    return or_(seen, Case.id.in_(invited))


async def get_document(uow: UnitOfWork, principal: Principal, file_id: uuid.UUID) -> DocumentRow:
    """A file one of the caller's cases lists, with that case (a file is pinned to one case).
    A file of no case they read is a plain 404, left to the files service: its owner reads it
    there, and there a refusal goes on record."""
    action = "attachment.read"
    try:
        require_scope(principal, write=False)
    except Forbidden as error:
        uow.audit.refuse(action, CASE_RESOURCE, None, error)
    readable = _cases_read(principal)
    named = str(file_id)
    # The case holding the file, among the caller's: the JSON list as text contains its id.
    query = select(Case).where(cast(Case.attachment_ids, String).contains(named))
    cases = [] if readable is None else (await uow.session.scalars(query.where(readable))).all()
    for case in cases:
        for item in case.attachments:
            if item["id"] == named:
                audit(uow, action, case.id, detail=f"FHIR: file {file_id}")
                return Attachment.model_validate(item), case
    raise NotFound("No DocumentReference with this id is visible to you.")


async def _row(
    uow: UnitOfWork, model: type[Row], row_id: uuid.UUID, action: str, resource_type: str
) -> Row:
    """The row of a resource read by id; one that does not exist is a denial on record."""
    found = await uow.session.get(model, row_id)
    if found is None:
        refusal = NotFound(f"No {resource_type} with this id is visible to you.")
        uow.audit.refuse(action, model.__tablename__, row_id, refusal)
    return found


async def get_report(
    uow: UnitOfWork, principal: Principal, conclusion_id: uuid.UUID
) -> tuple[Conclusion, Case]:
    """A conclusion version by its own id, if its case is visible to the caller."""
    action = "conclusion.read"
    conclusion = await _row(uow, Conclusion, conclusion_id, action, "DiagnosticReport")
    case = await load_case(uow, principal, conclusion.case_id, action)
    audit(uow, action, case.id, detail=f"version {conclusion.version}")
    return conclusion, case


async def search_reports(
    uow: UnitOfWork, principal: Principal, search: Search
) -> tuple[list[tuple[Conclusion, Case]], Cursor]:
    query = (
        select(Conclusion, Case)
        .join(Case, Case.id == Conclusion.case_id)
        .where(_visible_cases(uow, principal, "conclusion.list"))
    )
    query = _of_patient(query, Case.patient_id, Case.patient_reference, search)
    if (performer := reference_token(search, "performer", "Practitioner")) is not None:
        query = query.where(Conclusion.author_id == performer)
    if search.statuses is not None:
        first, amended = (status in search.statuses for status in REPORT_STATUSES)
        if first != amended:
            amends = Conclusion.amends_version
            query = query.where(amends.is_(None) if first else amends.is_not(None))
        elif not first:
            query = query.where(false())
    found = one_page(query, Conclusion.issued_at, Conclusion.id, search)
    rows = [(row[0], row[1]) for row in (await uow.session.execute(found)).all()]
    page, after = split_page(rows, search, lambda row: (row[0].issued_at, row[0].id))
    for case_id in dict.fromkeys(case.id for _, case in page):
        audit(uow, "conclusion.list", case_id, detail="FHIR")
    return page, after


async def get_check_in(
    uow: UnitOfWork, principal: Principal, check_in_id: uuid.UUID
) -> tuple[CheckIn, Enrolment]:
    """A check-in, if its monitoring is visible to the caller."""
    action = "monitoring.check_ins"
    check_in = await _row(uow, CheckIn, check_in_id, action, "Observation")
    enrolment = await load_enrolment(uow, principal, check_in.enrolment_id, action)
    record(uow, action, enrolment.id, f"check-in {check_in.id}")
    return check_in, enrolment


async def search_check_ins(
    uow: UnitOfWork, principal: Principal, search: Search
) -> tuple[list[tuple[CheckIn, Enrolment]], Cursor]:
    """A patient's own check-ins, or those of the caller's organisation's monitoring."""
    action = "monitoring.check_ins"
    query = select(CheckIn, Enrolment).join(Enrolment, Enrolment.id == CheckIn.enrolment_id)
    if principal.role is Role.PATIENT:
        query = query.where(Enrolment.patient_id == principal.subject)
    else:
        query = query.where(Enrolment.organization_id == require_care_team(uow, principal, action))
    query = _of_patient(query, Enrolment.patient_id, Enrolment.patient_reference, search)
    if (performer := reference_token(search, "performer", "Practitioner")) is not None:
        query = query.where(CheckIn.recorded_by == performer)
    if search.statuses is not None and "final" not in search.statuses:
        query = query.where(false())
    found = one_page(query, CheckIn.checked_at, CheckIn.id, search)
    rows = [(row[0], row[1]) for row in (await uow.session.execute(found)).all()]
    page, after = split_page(rows, search, lambda row: (row[0].checked_at, row[0].id))
    for enrolment_id in dict.fromkeys(enrolment.id for _, enrolment in page):
        record(uow, action, enrolment_id, "FHIR search")
    return page, after
