"""The browser's side of sign-in: the authorization endpoint with its sign-in and consent
pages (signing out is gateway/oauth/logout.py)."""

import time
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from gateway import signin
from gateway.auth import principal_for_user, secret_hasher
from gateway.models import User
from gateway.oauth import service
from gateway.oauth.browser import cookie_signer
from gateway.oauth.enums import Scope
from gateway.oauth.pages import error_page, render, text, throttled
from gateway.settings import GatewaySettings
from services.common.audit import Outcome
from services.common.db import utcnow
from services.common.errors import TooManyRequests
from services.common.openapi import form_example
from services.common.uow import UnitOfWork, UnitOfWorkDep

router = APIRouter(tags=["sign-in"])
PAGE = {"content": {"text/html": {}}, "description": "A page for the person"}
REDIRECT = {"description": "Back to the client's redirect URI with `code` or `error`"}
PAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: PAGE,
    303: REDIRECT,
    400: {**PAGE, "description": "A page saying why the request cannot go on"},
    429: {**PAGE, "description": "The sign-in page: too many failed attempts"},
}


def _settings(request: Request) -> GatewaySettings:
    settings: GatewaySettings = request.app.state.settings
    return settings


def _action(request: Request) -> str:
    return f"{request.url.path}?{request.url.query}"


def _sign_in_page(
    request: Request,
    ask: service.AuthorizationRequest,
    *,
    error: str | None = None,
    username: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    settings = _settings(request)
    federation = None
    if settings.oidc_federation_issuer:
        federation = f"/oauth/federation/start?{request.url.query}"
    return render(
        request,
        "sign_in.html",
        {
            "action": _action(request),
            "client_name": ask.client.name,
            "error": error,
            "username": username,
            "federation": federation,
            "provider": settings.oidc_federation_name,
        },
        status_code,
    )


async def proceed(
    request: Request,
    uow: UnitOfWork,
    ask: service.AuthorizationRequest,
    user: User,
    auth_time: int,
) -> Response:
    """A signed-in person: the consent page if the client needs one, else the code."""
    settings = _settings(request)
    if await service.needs_consent(uow, ask, user):
        if "none" in ask.prompt:
            error = service.RedirectError(
                "consent_required", "Consent is needed.", ask.redirect_uri, ask.state
            )
            return RedirectResponse(service.error_redirect(settings, error), 303)
        scopes = [scope for scope in Scope if scope.value in ask.scopes]
        return render(
            request,
            "consent.html",
            {
                "action": _action(request),
                "client_name": ask.client.name,
                "username": user.username,
                "scopes": [scope.value for scope in scopes],
            },
        )
    location = await service.issue_code(uow, settings, ask, user, auth_time)
    return RedirectResponse(location, 303)


async def _validated(request: Request, uow: UnitOfWork) -> service.AuthorizationRequest | Response:
    try:
        return await service.validate(uow, request.query_params)
    except service.PageError as exc:
        uow.audit.record("oauth.authorize", "oauth_client", None, Outcome.DENIED, detail=exc.reason)
        return error_page(request, exc.reason)
    except service.RedirectError as exc:
        return RedirectResponse(service.error_redirect(_settings(request), exc), 303)


@router.get(
    "/oauth/authorize",
    response_class=HTMLResponse,
    summary="Authorization endpoint (OAuth 2.0 authorization code with PKCE)",
    responses=PAGE_RESPONSES,
)
async def authorize(request: Request, uow: UnitOfWorkDep) -> Response:
    """Takes `response_type=code`, `client_id`, `redirect_uri`, `scope`, `state`, `nonce`,
    `code_challenge` and `code_challenge_method=S256` (required for public clients; `plain` is
    refused), and `prompt` (`none`, `login`). An unknown client or unregistered redirect URI
    is a page, never a redirect; other errors go back to the client as `error=`."""
    ask = await _validated(request, uow)
    if isinstance(ask, Response):
        return ask
    session = cookie_signer(request).signed_in(request)
    user = await service.signed_in_user(uow, session)
    if user is None or session is None or "login" in ask.prompt:
        if "none" in ask.prompt:
            error = service.RedirectError(
                "login_required", "Nobody is signed in.", ask.redirect_uri, ask.state
            )
            return RedirectResponse(service.error_redirect(_settings(request), error), 303)
        return _sign_in_page(request, ask)
    return await proceed(request, uow, ask, user, session.auth_time)


async def _sign_in(
    request: Request,
    uow: UnitOfWork,
    ask: service.AuthorizationRequest,
    username: str,
    password: str,
) -> Response:
    """The password grant's check (throttling, argon2 outside a transaction), on a page."""
    settings = _settings(request)
    address = request.client.host if request.client else "unknown"
    username = username.strip().lower()[:64]
    try:
        await signin.admit(uow.session, settings, username, address, utcnow())
    except TooManyRequests as exc:
        seconds = exc.headers["Retry-After"]
        page = _sign_in_page(
            request,
            ask,
            error=throttled(request, int(seconds), utcnow()),
            username=username,
            status_code=429,
        )
        page.headers["Retry-After"] = seconds
        return page
    user = await uow.session.scalar(select(User).where(User.username == username))
    await uow.session.commit()  # the attempt is counted before the hash (gateway/auth.py)
    valid = await secret_hasher(request).verify(user.password_hash if user else None, password)
    if user is None or not valid or not user.is_active:
        uow.audit.record(
            "auth.login", "user", user.id if user else None, Outcome.DENIED,
            detail=f"username={username} client={ask.client.client_id}",
        )  # fmt: skip
        error = text(request, "wrong")
        return _sign_in_page(request, ask, error=error, username=username, status_code=400)
    await signin.succeeded(uow.session, username, address)
    principal = await principal_for_user(uow, user)
    uow.audit.record(
        "auth.login", "user", user.id, principal=principal, detail=f"client={ask.client.client_id}"
    )
    response = await proceed(request, uow, ask, user, int(time.time()))
    cookie_signer(request).sign_in(response, user.id, user.password_hash)
    return response


@router.post(
    "/oauth/authorize",
    response_class=HTMLResponse,
    summary="The sign-in and consent forms of the authorization endpoint",
    responses=PAGE_RESPONSES,
    openapi_extra=form_example(
        step="sign_in",
        csrf_token="c2lnbi1pbi1mb3JtLTE3MzAwOTQ0MDA.Hq2Lx9Vb4Nc1Ke6Tg3Ws8Pz5Ry0",
        username="ivanova.surgeon",
        password="plum orbit candle 47",
    ),
)
async def authorize_form(
    request: Request,
    uow: UnitOfWorkDep,
    step: Annotated[str, Form()] = "sign_in",
    csrf_token: Annotated[str | None, Form()] = None,
    username: Annotated[str, Form(max_length=256)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    decision: Annotated[str, Form()] = "deny",
) -> Response:
    """The forms post to the authorization request's own URL, so the request is validated again
    as on `GET`; a form without its CSRF token is shown again, unanswered."""
    ask = await _validated(request, uow)
    if isinstance(ask, Response):
        return ask
    signer = cookie_signer(request)
    if not signer.csrf_valid(request, csrf_token):
        uow.audit.record("auth.login", "user", None, Outcome.DENIED, detail="csrf")
        expired = text(request, "csrf")
        return _sign_in_page(request, ask, error=expired, username=username, status_code=400)
    if step == "sign_in":
        return await _sign_in(request, uow, ask, username, password)
    session = signer.signed_in(request)
    user = await service.signed_in_user(uow, session)
    if user is None or session is None:
        return _sign_in_page(request, ask)
    if decision != "allow":
        denied = service.refused_consent(uow, ask)
        return RedirectResponse(service.error_redirect(_settings(request), denied), 303)
    await service.remember_consent(uow, ask, user)
    return await proceed(request, uow, ask, user, session.auth_time)
