"""The directory's FHIR R4 routes, published under `/api/fhir` (the gateway answers them
itself, before `gateway/fhir.py` forwards the other types): Patient, Practitioner,
PractitionerRole and Organization, read and searched."""

from typing import Annotated

from fastapi import APIRouter, Path, Request

from gateway.directory import fhir
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
from services.common.fhir_search import parse_search
from services.common.uow import UnitOfWorkDep

# Included in the facade's router (`gateway/fhir.py`), which adds the `/api/fhir` prefix.
router = APIRouter(route_class=FhirRoute, default_response_class=FhirResponse, tags=["fhir"])
Id = Annotated[str, Path(description="The resource's id: the user's or organisation's")]
READ = outcome_responses(401, 404)
SEARCH = outcome_responses(400, 401)


def _people_routes(resource_type: str, summary: str) -> None:
    async def read(
        request: Request, id: Id, uow: UnitOfWorkDep, principal: CurrentPrincipal
    ) -> FhirResponse:
        user_id = resource_id(id, resource_type)
        row = await fhir.read_person(uow, principal, resource_type, user_id)
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
        responses=READ,
    )
    router.add_api_route(
        f"/{resource_type}",
        search,
        methods=["GET"],
        summary=f"Search: {summary.lower()}s the directory shows you",
        responses=SEARCH,
    )


_people_routes("Patient", "A patient")
_people_routes("Practitioner", "A member of staff")
_people_routes("PractitionerRole", "A member of staff's role: organisation, specialty")


@router.get(
    "/Organization/{id}",
    summary="An organisation",
    responses=READ,
)
async def read_organization(
    request: Request, id: Id, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> FhirResponse:
    found = await fhir.read_organization(uow, resource_id(id, "Organization"))
    return resource_response(fhir.organization(terms_of(request), found))


@router.get(
    "/Organization",
    summary="Search organisations by name or kind",
    responses=SEARCH,
)
async def search_organizations(
    request: Request, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> FhirResponse:
    found, after = await fhir.search_organizations(uow, parse_search(request, "Organization"))
    terms = terms_of(request)
    resources = [fhir.organization(terms, item) for item in found]
    return searchset(request, "Organization", resources, after)
