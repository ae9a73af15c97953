"""API clients: the list, registering one (scopes from the allow-list, its secret shown once on
the answer to the form and never again), changing its name and scopes, and revoking it."""

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.common.errors import NotFound
from web.admin.api import AdminApi, AdminApiDep
from web.admin.schemas import ApiClient
from web.admin.views import chosen, form_key, render
from web.cases.api import Refusal
from web.cases.forms import FormState, form_values, refused
from web.deps import SignedIn, SignedInDep, SignedInFormDep

router = APIRouter(include_in_schema=False)
FIELDS = ("name", "organization_id", "is_service")
FORM = "admin/client_form.html"


def client_body(values: dict[str, str], scopes: list[str]) -> dict[str, Any]:
    return {
        "name": values["name"],
        "organization_id": values["organization_id"],
        "is_service": values["is_service"] == "yes",
        "scopes": scopes,
    }


def field_of(location: tuple[str | int, ...]) -> str | None:
    head = location[0] if location else None
    return str(head) if head in (*FIELDS, "scopes") else None


async def _form(
    request: Request,
    api: AdminApi,
    signed_in: SignedIn,
    state: FormState,
    scopes: list[str],
    *,
    client: ApiClient | None = None,
    key: str | None = None,
    status: int = 200,
) -> Response:
    context = {
        "form": state,
        "scopes": scopes,
        "client": client,
        "organizations": await api.all_organizations(signed_in.access_token),
        "form_key": key or uuid.uuid4().hex,
    }
    return render(request, FORM, context, status=status)


@router.get("/admin/api-clients")
async def client_list(request: Request, signed_in: SignedInDep, api: AdminApiDep) -> Response:
    token = signed_in.access_token
    clients = await api.api_clients(token)
    names = {each.id: each.name for each in await api.all_organizations(token)}
    context = {
        "clients": clients,
        "names": names,
        "saved": request.query_params.get("saved"),
        "refusal": None,
    }
    return render(request, "admin/clients.html", context)


@router.get("/admin/api-clients/new")
async def new_client(request: Request, signed_in: SignedInDep, api: AdminApiDep) -> Response:
    return await _form(request, api, signed_in, FormState(), [])


@router.post("/admin/api-clients/new")
async def create_client(request: Request, signed_in: SignedInFormDep, api: AdminApiDep) -> Response:
    """The answer is the page with the secret: not a redirect, so that no later page (nor a
    reload, which the API answers 410) can show it again."""
    form = await request.form()
    values = form_values(form, FIELDS)
    scopes = chosen(form, "scopes")
    key = form_key(form)
    created = await api.create_api_client(signed_in.access_token, client_body(values, scopes), key)
    if isinstance(created, Refusal):
        state = refused(created, values, field_of)
        return await _form(request, api, signed_in, state, scopes, key=key, status=created.status)
    return render(request, "admin/client_secret.html", {"client": created}, status=201)


async def _client(api: AdminApi, token: str, client_id: uuid.UUID) -> ApiClient:
    """The API lists clients but shows none alone: this one from the list, else the 404 page."""
    for client in await api.api_clients(token):
        if client.id == client_id:
            return client
    raise NotFound(f"No API client {client_id}.")


@router.get("/admin/api-clients/{client_id}/edit")
async def edit_client(
    request: Request, client_id: uuid.UUID, signed_in: SignedInDep, api: AdminApiDep
) -> Response:
    client = await _client(api, signed_in.access_token, client_id)
    values = {
        "name": client.name,
        "organization_id": str(client.organization_id),
        "is_service": "yes" if client.is_service else "",
    }
    state = FormState(values=values)
    return await _form(request, api, signed_in, state, client.scopes, client=client)


@router.post("/admin/api-clients/{client_id}/edit")
async def save_client(
    request: Request, client_id: uuid.UUID, signed_in: SignedInFormDep, api: AdminApiDep
) -> Response:
    """Taking a scope away also refuses the client's tokens issued so far (the API's rule)."""
    token = signed_in.access_token
    client = await _client(api, token, client_id)
    form = await request.form()
    values = form_values(form, FIELDS) | {"organization_id": str(client.organization_id)}
    scopes = chosen(form, "scopes")
    body = client_body(values, scopes)
    del body["organization_id"]  # a client stays with its organisation
    result = await api.update_api_client(token, client_id, body)
    if isinstance(result, Refusal):
        state = refused(result, values, field_of)
        return await _form(
            request, api, signed_in, state, scopes, client=client, status=result.status
        )
    return RedirectResponse("/admin/api-clients?saved=edited", status_code=303)


@router.post("/admin/api-clients/{client_id}/revoke")
async def revoke_client(
    request: Request, client_id: uuid.UUID, signed_in: SignedInFormDep, api: AdminApiDep
) -> Response:
    result = await api.revoke_api_client(signed_in.access_token, client_id)
    if isinstance(result, Refusal):
        token = signed_in.access_token
        names = {each.id: each.name for each in await api.all_organizations(token)}
        clients = await api.api_clients(token)
        context = {"clients": clients, "names": names, "saved": None, "refusal": result}
        return render(request, "admin/clients.html", context, status=result.status)
    return RedirectResponse("/admin/api-clients?saved=revoked", status_code=303)
