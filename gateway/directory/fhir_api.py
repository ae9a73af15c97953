"""The directory's FHIR R4 routes, published under `/api/fhir` (the gateway answers them
itself, before `gateway/fhir.py` forwards the other types): Patient, Practitioner,
PractitionerRole and Organization, read and searched."""

from typing import Annotated

from fastapi import APIRouter, Path, Request

from gateway.directory import fhir
from gateway.directory.fhir_named import NAMING, named_in_records
from services.common.auth import CurrentPrincipal
from services.common.fhir import (
    FhirResponse,
    FhirRoute,
    outcome_responses,
    resource_id,
    resource_response,
    searchset,
    terms_of,
)
from services.common.fhir_search import parse_search, search_description
from services.common.uow import UnitOfWorkDep

# Included in the facade's router (`gateway/fhir.py`), which adds the `/api/fhir` prefix.
router = APIRouter(route_class=FhirRoute, default_response_class=FhirResponse, tags=["fhir"])
Id = Annotated[str, Path(description="The resource's id: the user's or organisation's")]
READ = outcome_responses(401, 404)
SEARCH = outcome_responses(400, 401)
# Who sees whom: the directory's `GET /api/directory/users/{id}` rule, for FHIR as natively.
SEEN = (
    "Whom the directory shows the caller: administrators everyone, coordinators their "
    "region's people, staff the patients of the organisations they act for and the region's "
    "staff, an API client its organisation's patients, everyone themselves."
)

# Those the rule hides but the reader's own records name (`fhir_named.py`).
NAMED = (
    "Also whom a record you see names: the specialist of your appointment, the author of a "
    "conclusion you read, whoever is assigned your request or recorded your check-in, the "
    "patient of an appointment or a request you see. "
)


def _people_routes(resource_type: str, summary: str, shows: str) -> None:
    async def read(
        request: Request, id: Id, uow: UnitOfWorkDep, principal: CurrentPrincipal
    ) -> FhirResponse:
        user_id = resource_id(id, resource_type)
        named = named_in_records(request) if resource_type in NAMING else None
        row = await fhir.read_person(uow, principal, resource_type, user_id, named)
        return resource_response(fhir.render(terms_of(request), resource_type, row))

    async def search(
        request: Request, uow: UnitOfWorkDep, principal: CurrentPrincipal
    ) -> FhirResponse:
        found, after = await fhir.search_people(
            uow, principal, resource_type, parse_search(request, resource_type)
        )
        terms = terms_of(request)
        resources = [fhir.render(terms, resource_type, row) for row in found]
        return searchset(request, resource_type, resources, after)

    router.add_api_route(
        f"/{resource_type}/{{id}}",
        read,
        methods=["GET"],
        summary=f"{summary}, if the directory shows them to you",
        description=f"{shows} {SEEN} {NAMED if resource_type in NAMING else ''}Anyone else is "
        "a 404 OperationOutcome, as if unknown; every read is audited.",
        responses=READ,
    )
    router.add_api_route(
        f"/{resource_type}",
        search,
        methods=["GET"],
        summary=f"Search: {summary.lower()}s the directory shows you",
        description=search_description(
            resource_type, f"The ones a read by id would show. {SEEN} Each one shown is audited."
        ),
        responses=SEARCH,
    )


_people_routes(
    "Patient",
    "A patient",
    "A registered patient: name and organisation and, for staff, birth date, sex and the OMS "
    "policy number as `identifier`.",
)
_people_routes(
    "Practitioner", "A member of staff", "A member of staff (or an administrator): their name."
)
_people_routes(
    "PractitionerRole",
    "A member of staff's role: organisation, specialty",
    "One role per member of staff, with the same id as their Practitioner: their organisation "
    "and specialty.",
)


@router.get(
    "/Organization/{id}",
    summary="An organisation",
    responses=READ,
)
async def read_organization(
    request: Request, id: Id, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> FhirResponse:
    """Any signed-in caller, as `GET /api/directory/organizations/{id}`: name, kind (`type`)
    and region (`address.state`, the subject code: `42` for Kuzbass). 404 OperationOutcome
    for an unknown id."""
    found = await fhir.read_organization(uow, resource_id(id, "Organization"))
    return resource_response(fhir.organization(terms_of(request), found))


@router.get(
    "/Organization",
    summary="Search organisations by name or kind",
    description=search_description("Organization", "Any signed-in caller sees every one."),
    responses=SEARCH,
)
async def search_organizations(
    request: Request, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> FhirResponse:
    found, after = await fhir.search_organizations(uow, parse_search(request, "Organization"))
    terms = terms_of(request)
    resources = [fhir.organization(terms, item) for item in found]
    return searchset(request, "Organization", resources, after)
