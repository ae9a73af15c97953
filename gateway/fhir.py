"""The FHIR R4 facade `/api/fhir/`: each type's reads and searches go to the service that
renders it (and applies its own access rules, as for its native API), a search by a parameter
another service holds the answer to goes there (DocumentReference by case or patient: consult),
a read another service may answer first is asked there first (a DocumentReference: consult, for
a file of a case the reader reads; the files service otherwise), and the gateway itself answers
`/api/fhir/metadata` with the CapabilityStatement of them all."""

import re
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from gateway.directory import fhir_api as directory
from gateway.proxy import UpstreamResponse, forward
from services.common.errors import NotFound
from services.common.fhir import (
    FHIR_VERSION,
    PUBLIC_PREFIX,
    FhirResponse,
    FhirRoute,
    coding,
    concept,
    instant,
    outcome_responses,
    resource_response,
    terms_of,
)
from services.common.fhir_search import RESOURCES, ResourceKind

router = APIRouter(
    prefix=PUBLIC_PREFIX,
    route_class=FhirRoute,
    default_response_class=FhirResponse,
    tags=["fhir"],
)
# The directory's types first: the routes below forward every other type to its service.
router.include_router(directory.router)
# FHIR's id: 1-64 letters, digits, '-' and '.'; dots alone would be a path segment of theirs.
RESOURCE_ID = re.compile(r"^(?!\.+$)[A-Za-z0-9\-.]{1,64}$")
SECURITY_SYSTEM = "http://terminology.hl7.org/CodeSystem/restful-security-service"
PUBLISHED = datetime.now(UTC)  # this statement changes with the code, so with each start
PASSED_ON = frozenset({403, 404})


def capability_statement(base: str) -> dict[str, Any]:
    """R4, read and search-type for each type we publish, with its search parameters."""
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": instant(PUBLISHED),
        "publisher": "telemed",
        "kind": "instance",
        "software": {"name": "telemed"},
        "implementation": {
            "description": "Read-only FHIR R4 views of telemed's consultations, files and "
            "scheduling",
            "url": base,
        },
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "json"],  # anything else is a 406
        "rest": [
            {
                "mode": "server",
                "documentation": "Errors are OperationOutcomes. Searches page with `_count` "
                "(at most 200) and the `next` link. Unknown parameters are refused (400).",
                "security": {
                    "service": [concept(coding(SECURITY_SYSTEM, "OAuth", "OAuth"))],
                    "description": "Bearer access tokens from `/api/auth/token`; each "
                    "resource is shown to whoever may see it in the native API.",
                },
                "resource": [
                    {
                        "type": name,
                        "interaction": [{"code": "read"}, {"code": "search-type"}],
                        "searchParam": [
                            {
                                "name": param.name,
                                "type": param.type,
                                "documentation": param.documentation,
                            }
                            for param in kind.params
                        ],
                    }
                    for name, kind in RESOURCES.items()
                ],
            }
        ],
    }


def _kind(resource_type: str) -> ResourceKind:
    kind = RESOURCES.get(resource_type)
    if kind is None:
        raise NotFound(
            f"`{resource_type}` is not a resource type served here; see {PUBLIC_PREFIX}/metadata."
        )
    return kind


@router.get(
    "/metadata",
    summary="The CapabilityStatement: R4, each type's read and search",
    description=f"What this FHIR R4 endpoint serves: read and search of {', '.join(RESOURCES)}, "
    "each with its search parameters. Read-only: nothing is created or changed through FHIR. "
    "No token needed.",
)
async def metadata(request: Request) -> FhirResponse:
    return resource_response(capability_statement(terms_of(request).base))


@router.get(
    "/{resource_type}",
    summary="Search a type (forwarded to the service that answers it)",
    responses=outcome_responses(400, 401, 403, 404),
)
async def search(resource_type: str, request: Request) -> Response:
    kind = _kind(resource_type)
    service = kind.search_service(request.query_params.keys())
    return await forward(request, service, f"/api/{service}/fhir/{resource_type}")


@router.get(
    "/{resource_type}/{resource_id}",
    summary="Read a resource by id",
    responses=outcome_responses(401, 403, 404),
)
async def read(resource_type: str, resource_id: str, request: Request) -> Response:
    kind = _kind(resource_type)
    if not RESOURCE_ID.fullmatch(resource_id):
        raise NotFound(f"No {resource_type} with this id is visible to you.")
    if kind.read_first is not None:
        path = f"/api/{kind.read_first}/fhir/{resource_type}/{resource_id}"
        first = await forward(request, kind.read_first, path)
        # The first service's 404 (or 403: none of its records for this caller) is not the
        # answer: the type's own service may still show the caller the resource.
        if first.status_code not in PASSED_ON or not isinstance(first, UpstreamResponse):
            return first
        await first.upstream.read()  # so the pooled connection is kept
        first.upstream.release()
    path = f"/api/{kind.service}/fhir/{resource_type}/{resource_id}"
    return await forward(request, kind.service, path)
