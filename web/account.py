"""The person's own account: details and language, password, sessions at the gateway; and
the language switch every page's header carries."""

import logging
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from services.common.errors import ProblemError
from web.auth import local_path, organization_of
from web.deps import (
    ApiDep,
    FormSessionDep,
    ProviderDep,
    SignedIn,
    SignedInDep,
    SignedInFormDep,
    StoreDep,
)
from web.errors import redirect
from web.gateway_api import GatewayApi, Me, Refused
from web.i18n import LANGUAGES
from web.sessions import SessionStore
from web.templating import is_htmx, render_page

router = APIRouter(include_in_schema=False)
logger = logging.getLogger("telemed.web.account")
PAGE = "/profile"
TEMPLATE = "account.html"
Text = Annotated[str, Form(max_length=256)]


async def _page(
    request: Request, api: GatewayApi, signed_in: SignedIn, *, status: int = 200, **forms: Any
) -> Response:
    token = signed_in.access_token
    me = await api.me(token)
    sessions = await api.sessions(token)
    context = {
        "me": me,
        "sessions": sessions,
        "saved": request.query_params.get("saved"),
        "details": forms.get("details", {"values": me.model_dump(), "errors": {}}),
        "password": forms.get("password", {"errors": {}}),
    }
    return render_page(request, TEMPLATE, context, status=status)


@router.get(PAGE)
async def account(request: Request, signed_in: SignedInDep, api: ApiDep) -> Response:
    return await _page(request, api, signed_in)


def _field_errors(refused: Refused, default_field: str) -> dict[str, list[str]]:
    """The gateway's messages by field; a refusal naming none goes beside `default_field`."""
    return refused.fields or {default_field: [refused.detail]}


@router.post(PAGE + "/details")
async def save_details(
    request: Request,
    signed_in: SignedInFormDep,
    api: ApiDep,
    store: StoreDep,
    email: Text = "",
    phone: Text = "",
    language: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    changes: dict[str, Any] = {"email": email.strip() or None, "phone": phone.strip() or None}
    if language in LANGUAGES:
        changes["language"] = language
    result = await api.update_me(signed_in.access_token, changes)
    if isinstance(result, Refused):
        details = {"values": changes, "errors": _field_errors(result, "email")}
        return await _page(request, api, signed_in, status=422, details=details)
    await _remember(store, api, signed_in, result)
    return RedirectResponse(f"{PAGE}?saved=details", status_code=303)


async def _remember(store: SessionStore, api: GatewayApi, signed_in: SignedIn, me: Me) -> None:
    """The header's name, role and zone follow the directory."""
    organization = await organization_of(api, signed_in.access_token, me)
    await store.update_person(signed_in.session, me, organization)


@router.post(PAGE + "/password")
async def change_password(
    request: Request,
    signed_in: SignedInFormDep,
    api: ApiDep,
    current_password: Text = "",
    new_password: Text = "",
    confirm_password: Text = "",
) -> Response:
    errors: dict[str, list[str]] = {}
    if not current_password:
        errors["current_password"] = ["missing"]
    if not new_password:
        errors["new_password"] = ["missing"]
    elif new_password != confirm_password:
        errors["confirm_password"] = ["mismatch"]
    if not errors:
        refused = await api.change_password(signed_in.access_token, current_password, new_password)
        if refused is None:
            return RedirectResponse(f"{PAGE}?saved=password", status_code=303)
        errors = _password_errors(refused)
    return await _page(request, api, signed_in, status=422, password={"errors": errors})


def _password_errors(refused: Refused) -> dict[str, list[str]]:
    """The gateway's refusal beside the field it is about: its reason as one of the
    console's codes (the page translates them), and zxcvbn's suggestions as the gateway words
    them."""
    if refused.status == 403:
        return {"current_password": ["wrong"]}
    if refused.status == 429:
        return {"current_password": ["throttled"]}
    if refused.reason:
        return {"new_password": [f"password_{refused.reason}", *refused.suggestions]}
    return _field_errors(refused, "new_password")


@router.post(PAGE + "/sessions/{session_id}/end")
async def end_session(
    request: Request, session_id: uuid.UUID, signed_in: SignedInFormDep, api: ApiDep
) -> Response:
    """Ends one of the person's other sign-ins; with htmx only the list is sent back."""
    await api.end_session(signed_in.access_token, session_id)
    if is_htmx(request):
        sessions = await api.sessions(signed_in.access_token)
        return render_page(request, TEMPLATE, {"sessions": sessions}, block="sessions")
    return RedirectResponse(f"{PAGE}?saved=session", status_code=303)


@router.post("/language")
async def switch_language(
    request: Request,
    visitor: FormSessionDep,
    store: StoreDep,
    provider: ProviderDep,
    api: ApiDep,
    language: Annotated[str, Form(max_length=8)],
    next: Annotated[str, Form(max_length=2048)] = "/",
) -> Response:
    """The session's language, and the person's setting in the directory (messages and the
    next sign-in follow it), then back to the page the switch was on."""
    if language in LANGUAGES:
        await store.set_language(visitor, language)
        if visitor.signed_in:
            token = await store.access_token(visitor, provider)
            try:
                await api.update_me(token, {"language": language})
            except ProblemError as exc:  # this session switches all the same
                logger.warning("the language was not kept in the directory: %s", exc.detail)
    return redirect(request, local_path(next))
