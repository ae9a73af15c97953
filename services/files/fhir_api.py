"""FHIR R4 view of the files service under `/api/files/fhir` (published as `/api/fhir`):
stored files as DocumentReference."""

from typing import Annotated

from fastapi import Depends, Path, Request

from services.common.auth import CurrentPrincipal, bearer_token
from services.common.errors import problem_responses
from services.common.fhir import (
    FhirResponse,
    fhir_router,
    resource_id,
    resource_response,
    searchset,
)
from services.common.fhir_search import parse_search
from services.common.uow import UnitOfWorkDep
from services.consult.client import ConsultClient
from services.files import fhir
from services.files.api import PREFIX
from services.files.fhir_search import CaseViews, get_document, search_documents

router = fhir_router(PREFIX)


def _case_views(request: Request) -> CaseViews:
    return CaseViews(ConsultClient(request.app.state.gateway_client), bearer_token(request))


CaseViewsDep = Annotated[CaseViews, Depends(_case_views)]


@router.get(
    "/DocumentReference/{id}",
    summary="A stored file as a DocumentReference; its bytes at `content[0].attachment.url`",
    responses=problem_responses(401, 403, 404, 502),
)
async def read_document_reference(
    id: Annotated[str, Path(description="The file's id")],
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    views: CaseViewsDep,
) -> FhirResponse:
    record = await get_document(uow, principal, resource_id(id, "DocumentReference"), views)
    return resource_response(fhir.document_reference(record, await views.subject(record.case_id)))


@router.get(
    "/DocumentReference",
    summary="Search files: a case's (`related`), a patient's, or else your own",
    responses=problem_responses(400, 401, 403, 502),
)
async def search_document_references(
    request: Request, uow: UnitOfWorkDep, principal: CurrentPrincipal, views: CaseViewsDep
) -> FhirResponse:
    search = parse_search(request, "DocumentReference", fhir.DOCUMENT_STATUSES)
    found, after = await search_documents(uow, principal, search, views)
    resources = [
        fhir.document_reference(record, await views.subject(record.case_id)) for record in found
    ]
    return searchset(request, "DocumentReference", resources, after)
