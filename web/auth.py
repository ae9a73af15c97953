"""Signing in and out: the console is a confidential OAuth client of the gateway (authorization
code with PKCE, OpenID Connect), and signing out ends the sign-in at the gateway too."""

import logging
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from services.common.errors import BadRequest, ProblemError
from services.common.keys import same_secret
from web.deps import ApiDep, FormSessionDep, ProviderDep, SettingsDep, StoreDep, VisitorDep
from web.errors import redirect
from web.gateway_api import GatewayApi, Me, Organization, Refused
from web.i18n import supported
from web.oidc import AuthorizationRequest, InvalidIdToken
from web.templating import render_page

router = APIRouter(prefix="/auth", include_in_schema=False)
logger = logging.getLogger("telemed.web.auth")
SIGNED_OUT = "/auth/signed-out"


def local_path(value: str | None) -> str:
    """`value` if it is a path of this site (not `//host`, not `/\\host`, which browsers read
    as another host), else the home page: the return address must not lead off the console."""
    if value and value.startswith("/") and not value.startswith(("//", "/\\")):
        return value
    return "/"


@router.get("/sign-in")
async def sign_in(
    request: Request,
    visitor: VisitorDep,
    store: StoreDep,
    provider: ProviderDep,
    settings: SettingsDep,
    next: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response:
    """Sends the browser to the gateway's sign-in page with a new authorization request."""
    if visitor is not None and visitor.signed_in:
        return RedirectResponse(local_path(next), status_code=303)
    discovery = await provider.discovery()
    provider.credentials()  # not registered: say so now, not after the person signed in
    authorization = AuthorizationRequest.new()
    language: str = request.state.language
    _, cookie = await store.begin_sign_in(visitor, language, authorization, local_path(next))
    response = RedirectResponse(authorization.url(discovery, settings, language), status_code=303)
    store.set_cookie(response, cookie)
    return response


async def organization_of(api: GatewayApi, token: str, me: Me) -> Organization | None:
    if me.organization_id is None:
        return None
    try:
        return await api.organization(token, me.organization_id)
    except ProblemError as exc:  # a patient may not read the directory: times in UTC then
        if exc.status in (403, 404):
            return None
        raise


@router.get("/callback")
async def callback(
    request: Request,
    visitor: VisitorDep,
    store: StoreDep,
    provider: ProviderDep,
    api: ApiDep,
    settings: SettingsDep,
    code: Annotated[str | None, Query(max_length=2048)] = None,
    state: Annotated[str | None, Query(max_length=256)] = None,
    error: Annotated[str | None, Query(max_length=256)] = None,
    iss: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response:
    """The gateway sends the browser back here: the code is exchanged (with the client's
    secret and the PKCE verifier), the ID token checked, and the session signed in."""
    pending = visitor is not None and visitor.oauth_state and visitor.code_verifier
    if not pending or visitor is None or not same_secret(visitor.oauth_state or "", state or ""):
        # Another tab's sign-in, an old link, or a forged request: nothing to continue.
        return render_page(request, "auth/failed.html", {"reason": "stale"}, status=400)
    if error or not code:
        reason = "cancelled" if error == "access_denied" else "refused"
        return render_page(request, "auth/failed.html", {"reason": reason}, status=400)
    discovery = await provider.discovery()
    if iss is not None and iss != discovery.issuer:  # RFC 9207: a code from another provider
        return render_page(request, "auth/failed.html", {"reason": "refused"}, status=400)
    tokens = await api.exchange_code(
        discovery,
        provider.credentials(),
        code=code,
        code_verifier=visitor.code_verifier or "",
        redirect_uri=settings.redirect_uri(),
    )
    if isinstance(tokens, Refused):
        logger.warning("the gateway refused the code: %s", tokens.detail)
        return render_page(request, "auth/failed.html", {"reason": "refused"}, status=400)
    try:
        if not tokens.id_token:
            raise InvalidIdToken("none was issued")
        claims = await provider.verify_id_token(tokens.id_token, visitor.oauth_nonce or "")
        me = await api.me(tokens.access_token)
        if str(me.id) != str(claims["sub"]):
            raise InvalidIdToken("its subject is not the access token's")
    except InvalidIdToken as exc:
        logger.warning("an ID token was refused: %s", exc)
        raise BadRequest("The sign-in could not be verified.") from exc
    organization = await organization_of(api, tokens.access_token, me)
    cookie = await store.complete_sign_in(visitor, tokens, me, organization)
    response = RedirectResponse(local_path(visitor.return_to), status_code=303)
    store.set_cookie(response, cookie)
    return response


@router.post("/sign-out")
async def sign_out(
    request: Request,
    visitor: FormSessionDep,
    store: StoreDep,
    provider: ProviderDep,
    settings: SettingsDep,
) -> Response:
    """Revokes the refresh token at the gateway (RFC 7009), forgets the session, and, where
    the gateway offers it, ends the browser's sign-in there (RP-Initiated Logout), so that
    the next visitor of this browser is asked for a password. The sign-in's ID token goes
    along as `id_token_hint`: with it the gateway signs out at once, without asking again."""
    language = visitor.language
    refresh = store.refresh_token(visitor)
    id_token = store.id_token(visitor)
    discovery = await provider.discovery()
    if refresh is not None:
        try:
            await provider.api.revoke(discovery, provider.credentials(), refresh)
        except ProblemError as exc:  # signed out here all the same; it lapses at the gateway
            logger.warning("the refresh token could not be revoked: %s", exc.detail)
    await store.end(visitor)
    if discovery.end_session_endpoint:
        query = {
            "client_id": settings.oauth_client_id,
            "post_logout_redirect_uri": settings.signed_out_uri(),
            "state": language,  # the language of the page shown after it
            "ui_locales": language,
        }
        if id_token:
            query["id_token_hint"] = id_token
        location = f"{discovery.end_session_endpoint}?{urlencode(query)}"
    else:
        location = f"{SIGNED_OUT}?{urlencode({'state': language})}"
    response = redirect(request, location)
    store.clear_cookie(response)
    return response


@router.get("/signed-out")
async def signed_out(
    request: Request,
    visitor: VisitorDep,
    state: Annotated[str | None, Query(max_length=16)] = None,
    reason: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    """Said after signing out, or when the gateway ended the session; in the language the
    session had (carried as `state` through the gateway's sign-out)."""
    if language := supported(state):
        request.state.language = language
    return render_page(request, "auth/signed_out.html", {"expired": reason == "expired"})
