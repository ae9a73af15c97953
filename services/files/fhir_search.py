"""Reads behind the files service's FHIR view, with the native access rules and audit: a
file is visible to its owner, and to the holder of a consult read grant naming it."""

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, false, or_, select

from services.common.auth import Principal
from services.common.errors import BadRequest, Forbidden
from services.common.fhir_documents import DOCUMENT_STATUSES
from services.common.fhir_search import Search, one_page, reference_token, split_page
from services.common.uow import UnitOfWork
from services.files import service
from services.files.access import PresentedGrant
from services.files.client import READ_PURPOSE
from services.files.models import StoredFile
from services.files.service import RESOURCE as FILE_RESOURCE


def _owned_by(principal: Principal) -> ColumnElement[bool]:
    """The SQL form of `service.owns`: the caller's uploads and their organisation's."""
    mine = StoredFile.uploaded_by == principal.subject
    organization = service.owner_organization(principal)
    return mine if organization is None else or_(mine, StoredFile.organization_id == organization)


async def get_document(
    uow: UnitOfWork, principal: Principal, file_id: uuid.UUID, grant: PresentedGrant | None
) -> StoredFile:
    record = await service.load_file(uow, principal, file_id, "file.read", grant)
    service.audit(uow, "file.read", file_id, detail="FHIR")
    return record


def _readable(
    uow: UnitOfWork, principal: Principal, grant: PresentedGrant | None
) -> ColumnElement[bool]:
    """The caller's own files, and those their grant names (the SQL form of `lets_read`)."""
    if grant is None:
        return _owned_by(principal)
    try:
        checked = grant.check(principal, READ_PURPOSE)
    except Forbidden as error:
        uow.audit.refuse("file.list", FILE_RESOURCE, None, error)
    granted = StoredFile.id.in_(sorted(checked.file_ids)) & or_(
        StoredFile.case_id.is_(None), StoredFile.case_id == checked.case_id
    )
    return or_(_owned_by(principal), granted)


async def search_documents(
    uow: UnitOfWork, principal: Principal, search: Search, grant: PresentedGrant | None
) -> tuple[list[StoredFile], tuple[datetime, uuid.UUID] | None]:
    """The files the caller may read, optionally those pinned to one case (`related`)."""
    try:
        service.require_scope(principal, write=False)
    except Forbidden as error:
        uow.audit.refuse("file.list", FILE_RESOURCE, None, error)
    if search.patient_id is not None or search.patient_identifier is not None:
        # The gateway sends these to consult, which knows the cases' patients; files does not.
        raise BadRequest(
            "Search DocumentReference by patient at /api/fhir: consult answers it.",
            parameter="patient",
        )
    query = select(StoredFile).where(
        StoredFile.deleted_at.is_(None), _readable(uow, principal, grant)
    )
    case_id = reference_token(search, "related", "ServiceRequest")
    if case_id is not None:
        query = query.where(StoredFile.case_id == case_id)
    if search.statuses is not None and DOCUMENT_STATUSES[0] not in search.statuses:
        query = query.where(false())
    found = one_page(query, StoredFile.created_at, StoredFile.id, search)
    rows = (await uow.session.scalars(found)).all()
    page, after = split_page(rows, search, lambda record: (record.created_at, record.id))
    service.audit(uow, "file.list", None, detail=f"FHIR: {len(page)} files")
    return page, after
