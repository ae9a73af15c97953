"""FHIR R4 read-only views' shared kernel: rendering helpers, searchset Bundles,
`application/fhir+json` responses and OperationOutcomes (searching: `fhir_search.py`).

Each service renders its own resources (only it can apply its access rules) under
`/api/<service>/fhir/`; the gateway publishes them all under `/api/fhir/`. Errors of these
routes are OperationOutcomes, as FHIR clients expect, with the status the problem would have
had; bad search parameters are a 400, a format other than JSON a 406 (`fhir_formats.py`).
Absolute URLs start at the configured public base and codes use the configured systems
(`fhir_terms.py`).
"""

import uuid
from collections.abc import Callable, Coroutine, Mapping, Sequence
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.common.errors import NotFound, ProblemError
from services.common.fhir_formats import unoffered_format
from services.common.fhir_terms import PUBLIC_PREFIX as PUBLIC_PREFIX
from services.common.fhir_terms import FhirTerms as FhirTerms
from services.common.fhir_terms import terms_of as terms_of
from services.common.pagination import encode_cursor

FHIR_MEDIA_TYPE = "application/fhir+json"
FHIR_VERSION = "4.0.1"
LOINC_SYSTEM = "http://loinc.org"
UCUM_SYSTEM = "http://unitsofmeasure.org"
CURSOR = "_cursor"

# --- rendering ------------------------------------------------------------------------------


class FhirResponse(JSONResponse):
    media_type = FHIR_MEDIA_TYPE


def instant(moment: datetime) -> str:
    """A FHIR instant in UTC."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def reference(resource_type: str, resource_id: uuid.UUID | str) -> dict[str, Any]:
    return {"reference": f"{resource_type}/{resource_id}"}


def patient_reference(
    terms: FhirTerms, patient_id: uuid.UUID | None, mis_reference: str | None = None
) -> dict[str, Any]:
    """The patient: their account as `Patient/<id>` when they have one, and the MIS's
    reference as an identifier where there is one (a doctor-to-doctor case has only that)."""
    found: dict[str, Any] = reference("Patient", patient_id) if patient_id else {}
    if mis_reference:
        found["identifier"] = {"system": terms.patient_reference_system, "value": mis_reference}
    return found


def coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    found = {"system": system, "code": code}
    return found | {"display": display} if display else found


def concept(*codings: dict[str, Any], text: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"coding": list(codings)} if codings else {}
    return found | {"text": text} if text else found


def hyphenated(code: str) -> str:
    """Our enum values (`in_person`) as FHIR-style codes (`in-person`)."""
    return code.replace("_", "-")


def resource_response(resource: dict[str, Any]) -> FhirResponse:
    return FhirResponse(resource)


def searchset(
    request: Request,
    resource_type: str,
    resources: Sequence[dict[str, Any]],
    next_after: tuple[datetime, uuid.UUID] | None,
) -> FhirResponse:
    """A searchset Bundle of one page, with `self` and (if more follow) `next` links. `total`
    is given when the whole result is this one page; counting a longer one would cost a query
    the page does not need, so it is left out (FHIR makes it optional)."""
    # The configured base, not the request's Host: a client's header cannot steer the links.
    base = terms_of(request).base
    asked = request.query_params.multi_items()
    links = [{"relation": "self", "url": _search_url(base, resource_type, asked)}]
    if next_after is not None:
        kept = [(name, value) for name, value in asked if name != CURSOR]
        links.append(
            {
                "relation": "next",
                "url": _search_url(
                    base, resource_type, [*kept, (CURSOR, encode_cursor(*next_after))]
                ),
            }
        )
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset"}
    if next_after is None and CURSOR not in request.query_params:
        bundle["total"] = len(resources)
    bundle["link"] = links
    if resources:  # FHIR's JSON has no empty arrays
        bundle["entry"] = [
            {
                "fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}",
                "resource": resource,
                "search": {"mode": "match"},
            }
            for resource in resources
        ]
    return FhirResponse(bundle)


def _search_url(base: str, resource_type: str, params: Sequence[tuple[str, str]]) -> str:
    query = urlencode(params)
    return f"{base}/{resource_type}" + (f"?{query}" if query else "")


def resource_id(value: str, resource_type: str) -> uuid.UUID:
    """A resource id in a read's path; one that is not ours is simply not found."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(f"No {resource_type} with this id is visible to you.") from None


# --- errors as OperationOutcomes --------------------------------------------------------------

ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    410: "deleted",
    422: "processing",
    429: "throttled",
    502: "transient",
    503: "transient",
    504: "timeout",
}


class OutcomeIssue(BaseModel):
    severity: Literal["fatal", "error", "warning", "information"]
    code: str = Field(examples=["not-found"])
    diagnostics: str | None = Field(default=None, examples=["No Task with this id is visible."])
    expression: list[str] | None = Field(default=None, examples=[["date"]])


class OperationOutcome(BaseModel):
    """How a FHIR route answers an error: the status says what kind, the issues say why."""

    model_config = ConfigDict(populate_by_name=True)

    resource_type: Literal["OperationOutcome"] = Field(alias="resourceType")
    issue: list[OutcomeIssue] = Field(min_length=1)


def outcome_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries of a FHIR route's errors: OperationOutcomes, in the
    route's `application/fhir+json`; every route may answer 406 (a format not offered)."""
    return {
        status: {"model": OperationOutcome, "description": HTTPStatus(status).phrase}
        for status in sorted({*statuses, 406})
    }


def issue(status: int, diagnostics: str, expression: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {
        "severity": "error" if status < 500 else "fatal",
        "code": ISSUE_CODES.get(status, "exception"),
        "diagnostics": diagnostics,
    }
    return found | {"expression": [expression]} if expression else found


def outcome_response(
    status: int, issues: list[dict[str, Any]], headers: Mapping[str, str] | None = None
) -> FhirResponse:
    return FhirResponse(
        {"resourceType": "OperationOutcome", "issue": issues}, status_code=status, headers=headers
    )


def _validation_issues(error: RequestValidationError) -> list[dict[str, Any]]:
    return [
        issue(400, str(found.get("msg", "not valid")), ".".join(map(str, found.get("loc", ()))))
        for found in error.errors()
    ]


class FhirRoute(APIRoute):
    """A FHIR route: its errors are OperationOutcomes with the problem's status (bad input a
    400), so a FHIR client reads them. Failures of the server itself (a 500, a busy database)
    stay the kernel's problem documents."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def fhir_handler(request: Request) -> Response:
            refused = unoffered_format(request)
            if refused is not None:
                return outcome_response(406, [issue(406, refused)])
            try:
                return await handler(request)
            except ProblemError as error:
                extra = error.extensions.get("parameter")
                expression = str(extra) if extra else None
                found = issue(error.status, error.detail, expression)
                return outcome_response(error.status, [found], error.headers)
            except RequestValidationError as error:
                return outcome_response(400, _validation_issues(error))
            except StarletteHTTPException as error:
                detail = str(error.detail)
                return outcome_response(
                    error.status_code, [issue(error.status_code, detail)], error.headers
                )

        return fhir_handler


def fhir_router(prefix: str) -> APIRouter:
    """The router of a service's FHIR views under `<prefix>/fhir`."""
    return APIRouter(
        prefix=f"{prefix}/fhir",
        route_class=FhirRoute,
        default_response_class=FhirResponse,
        tags=["fhir"],
    )
