"""Signing in and out: the console is a confidential OAuth client of the gateway (authorization
code with PKCE, OpenID Connect), and signing out ends the sign-in at the gateway too."""

import base64
import hashlib
import logging
from typing import Annotated
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup

from services.common.errors import BadRequest, ProblemError
from services.common.keys import same_secret
from web.deps import ApiDep, FormSessionDep, ProviderDep, SettingsDep, StoreDep, VisitorDep
from web.errors import redirect
from web.gateway_api import GatewayApi, Me, Organization, Refused
from web.i18n import supported
from web.oidc import AuthorizationRequest, InvalidIdToken
from web.templating import content_security_policy, render_page

router = APIRouter(prefix="/auth", include_in_schema=False)
logger = logging.getLogger("telemed.web.auth")
SIGNED_OUT = "/auth/signed-out"
# The sign-out page sends its form to the gateway as soon as it is read. Inline, allowed by
# its hash alone, rather than a file: on a 300 ms link a script file is one more round trip.
LEAVING_FORM = "gateway-sign-out"
LEAVING_SCRIPT = f'document.getElementById("{LEAVING_FORM}").submit();'
LEAVING_HASH = base64.b64encode(hashlib.sha256(LEAVING_SCRIPT.encode()).digest()).decode()


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
    the next visitor of this browser is asked for a password: a page sends the browser there
    with a POSTed form holding the sign-in's ID token as `id_token_hint`, with which the
    gateway signs out at once, without asking again."""
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
    request.state.visitor = None  # the page after this is nobody's
    if discovery.end_session_endpoint:
        fields = {
            "client_id": settings.oauth_client_id,
            "post_logout_redirect_uri": settings.signed_out_uri(),
            "state": language,  # the language of the page shown after it
            "ui_locales": language,
        }
        if id_token:
            fields["id_token_hint"] = id_token
        response: Response = leaving_page(request, discovery.end_session_endpoint, fields)
    else:
        response = redirect(request, f"{SIGNED_OUT}?{urlencode({'state': language})}")
    store.clear_cookie(response)
    return response


def leaving_page(request: Request, endpoint: str, fields: dict[str, str]) -> Response:
    """A page whose form POSTs the logout request to the gateway: the ID token goes in the
    body, so it is in no URL (browser history, proxy and access logs). Its one script sends
    the form at once; without JavaScript the person presses the form's button."""
    parts = urlsplit(endpoint)
    policy = content_security_policy(
        {
            "script-src": f"'sha256-{LEAVING_HASH}'",
            "form-action": f"{parts.scheme}://{parts.netloc}",
        }
    )
    context = {
        "action": endpoint,
        "fields": fields,
        "form_id": LEAVING_FORM,
        "script": Markup(LEAVING_SCRIPT),  # noqa: S704  # our constant, hashed above
    }
    headers = {"Content-Security-Policy": policy}
    return render_page(request, "auth/signing_out.html", context, headers=headers)


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
