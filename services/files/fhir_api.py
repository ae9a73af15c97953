"""FHIR R4 view of the files service under `/api/files/fhir` (published as `/api/fhir`):
stored files as DocumentReference, to their owners and to holders of consult's read grant.
Searches by case or patient are consult's (the gateway sends them there)."""

from typing import Annotated

from fastapi import Path, Request

from services.common.auth import CurrentPrincipal
from services.common.fhir import (
    FhirResponse,
    fhir_router,
    outcome_responses,
    resource_id,
    resource_response,
    searchset,
    terms_of,
)
from services.common.fhir_documents import DOCUMENT_STATUSES
from services.common.fhir_search import parse_search
from services.common.openapi import client_scopes
from services.common.uow import UnitOfWorkDep
from services.files import fhir, service
from services.files.api import PREFIX, GrantDep
from services.files.fhir_search import get_document, search_documents

router = fhir_router(PREFIX)


@router.get(
    "/DocumentReference/{id}",
    summary="A stored file as a DocumentReference; its bytes at `content[0].attachment.url`",
    description="Yours, or a file of a case with consult's read grant in `Telemed-Grant`.",
    responses=outcome_responses(401, 403, 404),
    dependencies=client_scopes(service.READ_SCOPE),
)
async def read_document_reference(
    request: Request,
    id: Annotated[str, Path(description="The file's id")],
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    grant: GrantDep,
) -> FhirResponse:
    record = await get_document(uow, principal, resource_id(id, "DocumentReference"), grant)
    return resource_response(fhir.document_reference(terms_of(request), record))


@router.get(
    "/DocumentReference",
    summary="Search your own files (and those a `Telemed-Grant` names); by case or patient, "
    "consult answers",
    responses=outcome_responses(400, 401, 403),
    dependencies=client_scopes(service.READ_SCOPE),
)
async def search_document_references(
    request: Request, uow: UnitOfWorkDep, principal: CurrentPrincipal, grant: GrantDep
) -> FhirResponse:
    search = parse_search(request, "DocumentReference", DOCUMENT_STATUSES)
    found, after = await search_documents(uow, principal, search, grant)
    terms = terms_of(request)
    resources = [fhir.document_reference(terms, record) for record in found]
    return searchset(request, "DocumentReference", resources, after)
