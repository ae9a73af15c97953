"""FHIR R4 views of consult under `/api/consult/fhir` (published as `/api/fhir`): cases as
ServiceRequest and Task, their attachments as DocumentReference (read by id for the case's
readers, searched by case or patient, their bytes through `.../content`), conclusions as
DiagnosticReport, check-ins as Observation."""

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse

from services.common.auth import CurrentPrincipal, Principal
from services.common.errors import problem_responses
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
from services.common.fhir_search import parse_search, search_description
from services.common.openapi import client_scopes
from services.common.uow import UnitOfWork, UnitOfWorkDep
from services.consult.cases import service as cases
from services.consult.cases.deps import GrantsDep
from services.consult.deps import PREFIX
from services.consult.fhir import content
from services.consult.fhir import resources as fhir
from services.consult.fhir import search as fhir_search
from services.consult.scopes import READ_SCOPE

router = fhir_router(PREFIX)
Id = Annotated[str, Path(description="The resource's id", examples=["0b9c6b1e-..."])]
READ = outcome_responses(401, 403, 404)
SEARCH = outcome_responses(400, 401, 403)
# Who sees a case, as in the native API (`cases/access.py`).
CASES_SEEN = (
    "The cases the caller sees in consult's own API: the requesting organisation's, the "
    "target specialty's specialists (once submitted), the region's coordinators, the patient "
    "their own; an API client needs `consult:read` (403 otherwise)."
)


async def _search_cases(
    request: Request,
    uow: UnitOfWork,
    principal: Principal,
    resource_type: str,
    *,
    by_deadline: bool,
) -> FhirResponse:
    """Cases as ServiceRequests by when they were opened, or as Tasks by deadline."""
    statuses = fhir.TASK_STATUS if by_deadline else fhir.SERVICE_REQUEST_STATUS
    render = fhir.task if by_deadline else fhir.service_request
    search = parse_search(request, resource_type, set(statuses.values()))
    found, after = await fhir_search.search_cases(
        uow, principal, search, statuses, by_deadline=by_deadline
    )
    terms = terms_of(request)
    return searchset(request, resource_type, [render(terms, case) for case in found], after)


@router.get(
    "/ServiceRequest/{id}",
    summary="A case as a ServiceRequest",
    responses=READ,
    dependencies=client_scopes(READ_SCOPE),
)
async def read_service_request(
    request: Request, id: Id, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> FhirResponse:
    """A consultation request as FHIR: requesting and target organisations, specialty
    (`performerType`), urgency (`priority`), the question (`note`), the patient (`subject`,
    with the MIS reference as identifier), the main ICD-10 diagnosis (`reasonCode`) and the
    attachments (`supportingInfo`). Only a case the caller sees (see the search); any other
    is a 404 OperationOutcome, as if unknown."""
    case = await cases.get_case(uow, principal, resource_id(id, "ServiceRequest"))
    return resource_response(fhir.service_request(terms_of(request), case))


@router.get(
    "/ServiceRequest",
    summary="Search cases as ServiceRequests",
    description=search_description("ServiceRequest", CASES_SEEN + " Newest first."),
    responses=SEARCH,
    dependencies=client_scopes(READ_SCOPE),
)
async def search_service_requests(
    request: Request, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> FhirResponse:
    return await _search_cases(request, uow, principal, "ServiceRequest", by_deadline=False)


@router.get(
    "/Task/{id}",
    summary="A case as a Task: status, assignee, deadline",
    responses=READ,
    dependencies=client_scopes(READ_SCOPE),
)
async def read_task(
    request: Request, id: Id, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> FhirResponse:
    """The same case as its ServiceRequest (same id), as the work on it: status (requested,
    accepted, in-progress, completed...), the specialist it is assigned to (`owner`) and the
    deadline (`restriction.period.end`). Only a case the caller sees; any other is a 404."""
    case = await cases.get_case(uow, principal, resource_id(id, "Task"))
    return resource_response(fhir.task(terms_of(request), case))


@router.get(
    "/Task",
    summary="Search cases as Tasks, by deadline",
    description=search_description("Task", CASES_SEEN + " Soonest deadline first."),
    responses=SEARCH,
    dependencies=client_scopes(READ_SCOPE),
)
async def search_tasks(
    request: Request, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> FhirResponse:
    return await _search_cases(request, uow, principal, "Task", by_deadline=True)


@router.get(
    "/DocumentReference/{id}",
    summary="A file of a case you read, as a DocumentReference",
    description="The gateway asks here first when a DocumentReference is read: a file a case "
    "the caller reads lists (the requester's, the specialists it is addressed to, an invited "
    "consilium member, the region's coordinators, the patient on their own request), rendered "
    "as the search by case renders it. Any other file is a 404 here, and the files service "
    "answers instead (a caller's own files).",
    responses=READ,
    dependencies=client_scopes(READ_SCOPE),
)
async def read_document_reference(
    request: Request, id: Id, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> FhirResponse:
    found, case = await fhir_search.get_document(
        uow, principal, resource_id(id, "DocumentReference")
    )
    return resource_response(fhir.document_reference(terms_of(request), found, case))


# Not a FHIR interaction (its answer is a redirect to bytes, of any type): a plain route.
content_router = APIRouter(tags=["fhir"])


@content_router.get(
    "/DocumentReference/{id}/content",
    summary="The bytes of a case's file (a DocumentReference's `attachment.url`)",
    description="For whoever reads the case that lists the file, with their own token: a "
    "307 redirect to the file's content at the files service, with consult's grant for them "
    "and this file (`?grant=`, good for a minute, usable only with the same token). Follow it "
    "with the same `Authorization`. A file of no case the caller reads is a 404.",
    status_code=307,
    response_class=RedirectResponse,
    responses={307: {"description": "Fetch the content here"}, **problem_responses(401, 403, 404)},
    dependencies=client_scopes(READ_SCOPE),
)
async def document_content(
    id: Id, uow: UnitOfWorkDep, principal: CurrentPrincipal, grants: GrantsDep
) -> RedirectResponse:
    file_id = resource_id(id, "DocumentReference")
    location = await content.content_location(uow, principal, file_id, grants)
    return RedirectResponse(location, status_code=307)


router.include_router(content_router)


@router.get(
    "/DocumentReference",
    summary="Search the attachments of the cases you see: a case's (`related`), a patient's",
    description="The gateway sends `DocumentReference` searches with `related` or `patient` "
    "here; each file is rendered from the metadata the case keeps, with the case's patient as "
    "`subject`. Its bytes need consult's attachments grant unless the file is yours.",
    responses=SEARCH,
    dependencies=client_scopes(READ_SCOPE),
)
async def search_document_references(
    request: Request, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> FhirResponse:
    search = parse_search(request, "DocumentReference", DOCUMENT_STATUSES)
    found, after = await fhir_search.search_documents(uow, principal, search)
    terms = terms_of(request)
    resources = [fhir.document_reference(terms, item, case) for item, case in found]
    return searchset(request, "DocumentReference", resources, after)


@router.get(
    "/DiagnosticReport/{id}",
    summary="One signed conclusion version",
    responses=READ,
    dependencies=client_scopes(READ_SCOPE),
)
async def read_diagnostic_report(
    request: Request, id: Id, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> FhirResponse:
    """A specialist's signed conclusion, one version (an amendment is `amended` and a new
    version with its own id): findings as `conclusion`, ICD-10 codes as `conclusionCode`, the
    case as `basedOn`. Only of a case the caller sees; any other is a 404."""
    conclusion, case = await fhir_search.get_report(
        uow, principal, resource_id(id, "DiagnosticReport")
    )
    return resource_response(fhir.diagnostic_report(terms_of(request), conclusion, case))


@router.get(
    "/DiagnosticReport",
    summary="Search conclusion versions",
    description=search_description(
        "DiagnosticReport",
        "Every signed version of the conclusions of the cases the caller "
        "sees, as in `GET /api/consult/cases/{id}/conclusions`.",
    ),
    responses=SEARCH,
    dependencies=client_scopes(READ_SCOPE),
)
async def search_diagnostic_reports(
    request: Request, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> FhirResponse:
    search = parse_search(request, "DiagnosticReport", fhir.REPORT_STATUSES)
    found, after = await fhir_search.search_reports(uow, principal, search)
    terms = terms_of(request)
    resources = [fhir.diagnostic_report(terms, conclusion, case) for conclusion, case in found]
    return searchset(request, "DiagnosticReport", resources, after)


@router.get("/Observation/{id}", summary="A monitoring check-in", responses=READ)
async def read_observation(
    request: Request, id: Id, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> FhirResponse:
    """A patient's remote-monitoring check-in: vital signs as LOINC-coded components with
    UCUM units, symptoms and well-being, when it was taken and who recorded it. Only of a
    patient the caller sees (the patient, the responsible organisation's care team); any
    other is a 404."""
    check_in, enrolment = await fhir_search.get_check_in(
        uow, principal, resource_id(id, "Observation")
    )
    return resource_response(fhir.observation(terms_of(request), check_in, enrolment))


@router.get(
    "/Observation",
    summary="Search monitoring check-ins",
    description=search_description(
        "Observation",
        "Check-ins of the monitored patients the caller sees in consult's API: the patient "
        "themselves and the responsible organisation's care team (coordinators and doctors).",
    ),
    responses=SEARCH,
)
async def search_observations(
    request: Request, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> FhirResponse:
    search = parse_search(request, "Observation", fhir.OBSERVATION_STATUSES)
    found, after = await fhir_search.search_check_ins(uow, principal, search)
    terms = terms_of(request)
    resources = [fhir.observation(terms, check_in, enrolment) for check_in, enrolment in found]
    return searchset(request, "Observation", resources, after)
