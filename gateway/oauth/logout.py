"""Signing out of the gateway in a browser: OpenID Connect RP-Initiated Logout 1.0.

A relying party that shows the ID token it was issued for the person signed in here
(`id_token_hint`) and a post-logout URI registered for it signs them out in one step: the
browser's sign-in ends and it goes straight back. Any other request (no hint, a hint that is
not ours, names another client or another person, or no registered URI) gets the confirmation
page, whose CSRF-protected button signs out: a link alone, which any site can make, ends
nobody's sign-in.
"""

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gateway.oauth import service
from gateway.oauth.browser import cookie_signer
from gateway.oauth.clients import active_client
from gateway.oauth.idtokens import IdTokenSigner
from gateway.oauth.pages import render
from gateway.settings import GatewaySettings
from services.common.uow import UnitOfWork, UnitOfWorkDep

router = APIRouter(tags=["sign-in"])
PAGE = {"content": {"text/html": {}}, "description": "A page for the person"}
BACK = {"description": "To the registered post-logout URI, with `state`"}


@dataclass(frozen=True)
class LogoutRequest:
    target: str | None  # the registered post-logout URI with `state`, if any
    client_id: str | None
    hinted_subject: uuid.UUID | None  # the person of a valid `id_token_hint`


def _hint(request: Request) -> dict[str, Any] | None:
    """The `id_token_hint`'s claims if this gateway issued it, within a sign-in's lifetime."""
    hint = request.query_params.get("id_token_hint")
    if not hint:
        return None
    settings: GatewaySettings = request.app.state.settings
    signer: IdTokenSigner = request.app.state.id_token_signer
    return signer.hinted(hint, max_age_seconds=settings.refresh_token_seconds)


async def _logout_request(uow: UnitOfWork, request: Request) -> LogoutRequest:
    """The client is the hint's audience (`client_id`, if also sent, must be the same, as the
    spec requires), else the named one; only a URI registered for it is followed."""
    claims = _hint(request)
    named = request.query_params.get("client_id")
    if claims is not None and named is not None and named != claims["aud"]:
        return LogoutRequest(None, None, None)
    client = await active_client(uow, claims["aud"] if claims is not None else named)
    if client is None:
        return LogoutRequest(None, None, None)
    subject = uuid.UUID(claims["sub"]) if claims is not None else None
    uri = request.query_params.get("post_logout_redirect_uri")
    if uri is None or uri not in client.post_logout_redirect_uris:
        return LogoutRequest(None, client.client_id, subject)
    target = service.with_params(uri, {"state": request.query_params.get("state")})
    return LogoutRequest(target, client.client_id, subject)


def _signed_out(uow: UnitOfWork, request: Request, ask: LogoutRequest) -> Response:
    """Ends the browser's sign-in; back to the client's URI, or a page saying so."""
    signer = cookie_signer(request)
    session = signer.signed_in(request)
    if session is not None:
        uow.audit.record("auth.logout", "user", session.user_id, detail=f"client={ask.client_id}")
    response: Response = (
        RedirectResponse(ask.target, 303) if ask.target else render(request, "signed_out.html", {})
    )
    signer.sign_out(response)
    return response


def _action(request: Request) -> str:
    return f"{request.url.path}?{request.url.query}"


@router.get(
    "/oauth/logout",
    response_class=HTMLResponse,
    summary="Sign out of the gateway in this browser (RP-Initiated Logout)",
    responses={200: PAGE, 303: BACK},
)
async def logout_page(request: Request, uow: UnitOfWorkDep) -> Response:
    """Takes `id_token_hint`, `client_id`, `post_logout_redirect_uri` (one registered for the
    client) and `state`. With a hint this gateway issued to the client, for the person signed
    in here (or nobody), and a registered URI: signed out and sent back at once. Otherwise a
    page asks first."""
    ask = await _logout_request(uow, request)
    session = cookie_signer(request).signed_in(request)
    # Someone else signed in here: their sign-in is not the hint's to end unasked.
    same_person = session is None or session.user_id == ask.hinted_subject
    if ask.target and ask.hinted_subject is not None and same_person:
        return _signed_out(uow, request, ask)
    return render(request, "sign_out.html", {"action": _action(request)})


@router.post(
    "/oauth/logout",
    response_class=HTMLResponse,
    summary="Sign out of the gateway in this browser",
    responses={200: PAGE, 303: BACK, 400: PAGE},
)
async def logout(
    request: Request, uow: UnitOfWorkDep, csrf_token: Annotated[str | None, Form()] = None
) -> Response:
    if not cookie_signer(request).csrf_valid(request, csrf_token):
        return render(request, "sign_out.html", {"action": _action(request)}, 400)
    return _signed_out(uow, request, await _logout_request(uow, request))
