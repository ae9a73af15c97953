"""Organisations: the list, one organisation's page, and the form that registers or changes
one (name, kind, region, zone, working hours per weekday, the organisations it serves)."""

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from web.admin.api import AdminApi, AdminApiDep
from web.admin.schemas import Organization
from web.admin.views import chosen, form_key, render
from web.cases.api import Refusal
from web.cases.forms import FormState, form_values, refused
from web.deps import SignedIn, SignedInDep, SignedInFormDep
from web.i18n import RUSSIAN_ZONES

router = APIRouter(include_in_schema=False)
DAYS = range(7)
HOURS = tuple(f"hours_{day}_{end}" for day in DAYS for end in ("opens", "closes"))
FIELDS = ("name", "kind", "region", "timezone", *HOURS)
FORM = "admin/organization_form.html"


def organization_values(organization: Organization) -> dict[str, str]:
    values = {
        "name": organization.name,
        "kind": organization.kind,
        "region": organization.region,
        "timezone": organization.timezone,
    }
    for hours in organization.working_hours:
        values[f"hours_{hours.weekday}_opens"] = hours.opens.strftime("%H:%M")
        values[f"hours_{hours.weekday}_closes"] = hours.closes.strftime("%H:%M")
    return values


def organization_body(values: dict[str, str]) -> tuple[dict[str, Any], list[int]]:
    """The API's body, and the weekday of each entry of its `working_hours` (to place the
    API's errors). A day with neither time is closed; with one, the API is sent the other
    empty and says what is missing."""
    hours, days = [], []
    for day in DAYS:
        opens, closes = values[f"hours_{day}_opens"], values[f"hours_{day}_closes"]
        if opens or closes:
            hours.append({"weekday": day, "opens": opens, "closes": closes})
            days.append(day)
    body = {name: values[name] for name in ("name", "kind", "region", "timezone")}
    return body | {"working_hours": hours}, days


def field_of(days: list[int]) -> Any:
    def field(location: tuple[str | int, ...]) -> str | None:
        head = location[0] if location else None
        if head == "working_hours" and len(location) > 1 and isinstance(location[1], int):
            day = days[location[1]] if location[1] < len(days) else None
            end = location[2] if len(location) > 2 else "closes"  # "opens must be before closes"
            return None if day is None else f"hours_{day}_{end}"
        if head in ("organization_ids", "served"):
            return "served"
        return str(head) if head in FIELDS else None

    return field


async def _form(
    request: Request,
    api: AdminApi,
    signed_in: SignedIn,
    state: FormState,
    served: list[str],
    *,
    organization: Organization | None = None,
    key: str | None = None,
    status: int = 200,
) -> Response:
    others = [
        each
        for each in await api.all_organizations(signed_in.access_token)
        if organization is None or each.id != organization.id
    ]
    zone = state.values.get("timezone") or ""
    context = {
        "form": state,
        "organization": organization,
        "others": others,
        "served": served,
        "zones": list(RUSSIAN_ZONES) + ([zone] if zone and zone not in RUSSIAN_ZONES else []),
        "form_key": key or uuid.uuid4().hex,
    }
    return render(request, FORM, context, status=status)


@router.get("/admin/organizations")
async def organization_list(request: Request, signed_in: SignedInDep, api: AdminApiDep) -> Response:
    organizations = await api.all_organizations(signed_in.access_token)
    names = {each.id: each.name for each in organizations}
    return render(
        request, "admin/organizations.html", {"organizations": organizations, "names": names}
    )


@router.get("/admin/organizations/new")
async def new_organization(request: Request, signed_in: SignedInDep, api: AdminApiDep) -> Response:
    values = {"kind": "district_hospital", "timezone": "Asia/Novokuznetsk"}
    for day in range(6):  # the API's own default: Monday to Saturday, 08:00-20:00
        values |= {f"hours_{day}_opens": "08:00", f"hours_{day}_closes": "20:00"}
    return await _form(request, api, signed_in, FormState(values=values), [])


@router.get("/admin/organizations/{organization_id}")
async def organization_page(
    request: Request, organization_id: uuid.UUID, signed_in: SignedInDep, api: AdminApiDep
) -> Response:
    token = signed_in.access_token
    organization = await api.organization_record(token, organization_id)
    organizations = await api.all_organizations(token)
    context = {
        "organization": organization,
        "names": {each.id: each.name for each in organizations},
        "saved": request.query_params.get("saved"),
    }
    return render(request, "admin/organization.html", context)


@router.get("/admin/organizations/{organization_id}/edit")
async def edit_organization(
    request: Request, organization_id: uuid.UUID, signed_in: SignedInDep, api: AdminApiDep
) -> Response:
    organization = await api.organization_record(signed_in.access_token, organization_id)
    state = FormState(values=organization_values(organization))
    served = [str(each) for each in organization.serves]
    return await _form(request, api, signed_in, state, served, organization=organization)


async def _save(
    request: Request,
    form: FormData,
    signed_in: SignedIn,
    api: AdminApi,
    organization: Organization | None,
) -> Response:
    """The details, then the organisations served where they changed (a second call: the
    API keeps them apart); a refusal of either is said beside its fields."""
    token = signed_in.access_token
    values = form_values(form, FIELDS)
    served = chosen(form, "served")
    body, days = organization_body(values)
    key = form_key(form)
    current = organization.id if organization else None
    result = await api.save_organization(token, current, body, key)
    if isinstance(result, Refusal):
        state = refused(result, values, field_of(days))
        return await _form(
            request, api, signed_in, state, served,
            organization=organization, key=key, status=result.status,
        )  # fmt: skip
    if sorted(served) != sorted(str(each) for each in result.serves):
        linked = await api.replace_served(token, result.id, served)
        if isinstance(linked, Refusal):
            state = refused(linked, values, field_of(days))
            return await _form(
                request, api, signed_in, state, served, organization=result, status=linked.status
            )
    saved = "edited" if organization else "created"
    return RedirectResponse(f"/admin/organizations/{result.id}?saved={saved}", status_code=303)


@router.post("/admin/organizations/new")
async def create_organization(
    request: Request, signed_in: SignedInFormDep, api: AdminApiDep
) -> Response:
    return await _save(request, await request.form(), signed_in, api, None)


@router.post("/admin/organizations/{organization_id}/edit")
async def save_organization(
    request: Request, organization_id: uuid.UUID, signed_in: SignedInFormDep, api: AdminApiDep
) -> Response:
    organization = await api.organization_record(signed_in.access_token, organization_id)
    return await _save(request, await request.form(), signed_in, api, organization)
