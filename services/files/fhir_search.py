"""Reads behind the files service's FHIR view, with the native access rules and audit.

A file is visible to its owner and to whoever may read its case, which the consult service
decides when asked with the caller's own token; it also renders the case's patient, which
the files service does not know.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, false, or_, select

from services.common.auth import Principal
from services.common.errors import Forbidden, NotFound
from services.common.fhir_search import Search, one_page, reference_token, split_page
from services.common.uow import UnitOfWork
from services.consult.client import ConsultClient
from services.files import service
from services.files.fhir import DOCUMENT_STATUSES
from services.files.models import StoredFile
from services.files.service import RESOURCE as FILE_RESOURCE

MAX_PATIENT_CASES = 200  # the cases of one patient searched for their files


class CaseViews:
    """Cases as the consult service shows them to the caller, each asked for once."""

    def __init__(self, consult: ConsultClient, bearer: str) -> None:
        self._consult = consult
        self._bearer = bearer
        self._requests: dict[uuid.UUID, dict[str, Any] | None] = {}

    async def service_request(self, case_id: uuid.UUID) -> dict[str, Any] | None:
        """The case as a ServiceRequest, or None if the caller may not read it."""
        if case_id not in self._requests:
            try:
                found = await self._consult.fhir(f"ServiceRequest/{case_id}", self._bearer)
            except (NotFound, Forbidden):
                found = None
            self._requests[case_id] = found
        return self._requests[case_id]

    async def readable(self, case_id: uuid.UUID) -> bool:
        return await self.service_request(case_id) is not None

    async def of_patient(self, patient_id: uuid.UUID) -> list[uuid.UUID]:
        """The patient's cases the caller may read, the most recent first few hundred."""
        path = f"ServiceRequest?patient={patient_id}&_count={MAX_PATIENT_CASES}"
        bundle = await self._consult.fhir(path, self._bearer)
        found = [entry["resource"] for entry in bundle.get("entry", [])]
        for resource in found:
            self._requests[uuid.UUID(resource["id"])] = resource
        return [uuid.UUID(resource["id"]) for resource in found]

    async def subject(self, case_id: uuid.UUID | None) -> dict[str, Any] | None:
        found = await self.service_request(case_id) if case_id else None
        return found["subject"] if found else None


def _owned_by(principal: Principal) -> ColumnElement[bool]:
    """The SQL form of `service.owns`: the caller's uploads and their organisation's."""
    mine = StoredFile.uploaded_by == principal.subject
    organization = service.owner_organization(principal)
    return mine if organization is None else or_(mine, StoredFile.organization_id == organization)


async def get_document(
    uow: UnitOfWork, principal: Principal, file_id: uuid.UUID, views: CaseViews
) -> StoredFile:
    record = await service.load_file(uow, principal, file_id, "file.read", views.readable)
    service.audit(uow, "file.read", file_id, detail="FHIR")
    return record


async def search_documents(
    uow: UnitOfWork, principal: Principal, search: Search, views: CaseViews
) -> tuple[list[StoredFile], tuple[datetime, uuid.UUID] | None]:
    """A case's files (`related`), a patient's (the files of their cases the caller reads),
    or else the caller's own."""
    try:
        service.require_scope(principal, write=False)
    except Forbidden as error:
        uow.audit.refuse("file.list", FILE_RESOURCE, None, error)
    query = select(StoredFile).where(StoredFile.deleted_at.is_(None))
    case_id = reference_token(search, "related", "ServiceRequest")
    if search.patient_id is not None:
        query = query.where(StoredFile.case_id.in_(await views.of_patient(search.patient_id)))
    if case_id is not None:
        query = query.where(StoredFile.case_id == case_id)
        if not await views.readable(case_id):
            query = query.where(_owned_by(principal))
    elif search.patient_id is None:
        query = query.where(_owned_by(principal))
    if search.statuses is not None and DOCUMENT_STATUSES[0] not in search.statuses:
        query = query.where(false())
    found = one_page(query, StoredFile.created_at, StoredFile.id, search)
    rows = (await uow.session.scalars(found)).all()
    page, after = split_page(rows, search, lambda record: (record.created_at, record.id))
    service.audit(uow, "file.list", None, detail=f"FHIR: {len(page)} files")
    return page, after
