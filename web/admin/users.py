"""Users: the list with its search and filters, one person's page (their account, sign-ins
and the steps an administrator takes: a password reset link, an invitation, unlocking,
deactivating and reactivating), and the form that registers or changes a person."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from web.admin.api import AdminApi, AdminApiDep
from web.admin.labels import CHANNELS, LANGUAGES, ROLES
from web.admin.schemas import Account, LinkSent
from web.admin.views import form_key, render
from web.cases.api import Refusal
from web.cases.forms import FormState, form_values, parse_id, refused
from web.cases.labels import SPECIALTIES
from web.deps import SignedIn, SignedInDep, SignedInFormDep

router = APIRouter(include_in_schema=False)
PROFILE = ("full_name", "role", "organization_id", "specialty", "email", "phone", "language")
NEW_FIELDS = ("username", *PROFILE)
# The steps taken from a person's page: each the API's path under the user.
STEPS = ("password-reset", "invite", "unlock", "deactivate", "reactivate")
Filter = Annotated[str | None, Query(max_length=100)]
FORM = "admin/user_form.html"


def user_body(values: dict[str, str], fields: tuple[str, ...]) -> dict[str, Any]:
    """The API's body: an empty optional field is none (a contact cleared), the rest as typed
    for the API to check."""
    optional = ("organization_id", "specialty", "email", "phone")
    return {name: (values[name] or None) if name in optional else values[name] for name in fields}


def first_field(location: tuple[str | int, ...]) -> str | None:
    return str(location[0]) if location and location[0] in NEW_FIELDS else None


async def _form(
    request: Request,
    api: AdminApi,
    signed_in: SignedIn,
    state: FormState,
    *,
    account: Account | None = None,
    key: str | None = None,
    status: int = 200,
) -> Response:
    context = {
        "form": state,
        "account": account,
        "role_options": [(role, name) for role, name in ROLES.items()],
        "organizations": await api.all_organizations(signed_in.access_token),
        "specialties": SPECIALTIES,
        "form_key": key or uuid.uuid4().hex,
    }
    return render(request, FORM, context, status=status)


@router.get("/admin/users")
async def user_list(
    request: Request,
    signed_in: SignedInDep,
    api: AdminApiDep,
    q: Filter = None,
    role: Filter = None,
    organization: Filter = None,
) -> Response:
    token = signed_in.access_token
    filters = {
        "q": (q or "").strip(),
        "role": role if role in ROLES else "",
        "organization": str(parse_id(organization) or ""),
    }
    users = await api.users(
        token, q=filters["q"], role=filters["role"], organization_id=filters["organization"]
    )
    organizations = await api.all_organizations(token)
    context = {
        "users": users,
        "filters": filters,
        "organizations": organizations,
        "names": {each.id: each.name for each in organizations},
    }
    return render(request, "admin/users.html", context)


@router.get("/admin/users/new")
async def new_user(request: Request, signed_in: SignedInDep, api: AdminApiDep) -> Response:
    state = FormState(values={"role": "district_medic", "language": "ru"})
    return await _form(request, api, signed_in, state)


@router.post("/admin/users/new")
async def create_user(request: Request, signed_in: SignedInFormDep, api: AdminApiDep) -> Response:
    """Registers the person without a password, then invites them to choose one."""
    token = signed_in.access_token
    form = await request.form()
    values = form_values(form, NEW_FIELDS)
    key = form_key(form)
    created = await api.create_user(token, user_body(values, NEW_FIELDS), key)
    if isinstance(created, Refusal):
        state = refused(created, values, first_field)
        return await _form(request, api, signed_in, state, key=key, status=created.status)
    invited = await api.send_link(token, created.id, "invite")
    if isinstance(invited, Refusal):  # no contact to send it to: the page offers it again
        return RedirectResponse(f"/admin/users/{created.id}?saved=not-invited", status_code=303)
    return RedirectResponse(_sent(created.id, "invite", invited), status_code=303)


def _sent(user_id: uuid.UUID, step: str, sent: LinkSent) -> str:
    channels = ",".join(channel for channel in sent.channels if channel in CHANNELS)
    return f"/admin/users/{user_id}?saved={step}&channels={channels}"


async def _page(
    request: Request,
    api: AdminApi,
    signed_in: SignedIn,
    user_id: uuid.UUID,
    *,
    refusal: tuple[str, Refusal] | None = None,
) -> Response:
    token = signed_in.access_token
    account = await api.account(token, user_id)
    organization = (
        await api.organization_record(token, account.organization_id)
        if account.organization_id
        else None
    )
    channels = request.query_params.get("channels", "")
    context = {
        "account": account,
        "organization": organization,
        "sessions": await api.user_sessions(token, user_id),
        "specialties": SPECIALTIES,
        "saved": request.query_params.get("saved") if refusal is None else None,
        "channels": [each for each in channels.split(",") if each in CHANNELS],
        "refused": refusal and refusal[0],
        "refusal": refusal and refusal[1],
        "languages": LANGUAGES,
    }
    return render(request, "admin/user.html", context, status=refusal[1].status if refusal else 200)


@router.get("/admin/users/{user_id}")
async def user_page(
    request: Request, user_id: uuid.UUID, signed_in: SignedInDep, api: AdminApiDep
) -> Response:
    return await _page(request, api, signed_in, user_id)


@router.get("/admin/users/{user_id}/edit")
async def edit_user(
    request: Request, user_id: uuid.UUID, signed_in: SignedInDep, api: AdminApiDep
) -> Response:
    account = await api.account(signed_in.access_token, user_id)
    values = {name: str(getattr(account, name) or "") for name in PROFILE}
    return await _form(request, api, signed_in, FormState(values=values), account=account)


@router.post("/admin/users/{user_id}/edit")
async def save_user(
    request: Request, user_id: uuid.UUID, signed_in: SignedInFormDep, api: AdminApiDep
) -> Response:
    token = signed_in.access_token
    form = await request.form()
    values = form_values(form, PROFILE)
    result = await api.update_user(token, user_id, user_body(values, PROFILE))
    if isinstance(result, Refusal):
        account = await api.account(token, user_id)
        state = refused(result, values, first_field)
        return await _form(request, api, signed_in, state, account=account, status=result.status)
    return RedirectResponse(f"/admin/users/{user_id}?saved=edited", status_code=303)


async def take_step(
    request: Request, user_id: uuid.UUID, step: str, signed_in: SignedIn, api: AdminApi
) -> Response:
    token = signed_in.access_token
    result: Any
    if step in ("password-reset", "invite"):
        result = await api.send_link(token, user_id, step)
    elif step == "unlock":
        result = await api.unlock(token, user_id)
    else:
        result = await api.switch(token, user_id, step)
    if isinstance(result, Refusal):
        return await _page(request, api, signed_in, user_id, refusal=(step, result))
    if isinstance(result, LinkSent):
        return RedirectResponse(_sent(user_id, step, result), status_code=303)
    return RedirectResponse(f"/admin/users/{user_id}?saved={step}", status_code=303)


def _route(step: str) -> None:
    async def endpoint(
        request: Request, user_id: uuid.UUID, signed_in: SignedInFormDep, api: AdminApiDep
    ) -> Response:
        return await take_step(request, user_id, step, signed_in, api)

    router.add_api_route(f"/admin/users/{{user_id}}/{step}", endpoint, methods=["POST"])


for _step in STEPS:
    _route(_step)
