"""Signing out of the gateway in a browser: OpenID Connect RP-Initiated Logout 1.0, by GET or
by POST (section 2 allows both; a POSTed form keeps the ID token out of the URL, and so out of
browser histories and the access logs of proxies on the way).

A relying party that shows the ID token it was issued for the person signed in here
(`id_token_hint`) and a post-logout URI registered for it signs them out in one step: the
browser's sign-in ends and it goes straight back. Any other request (no hint, a hint that is
not ours, names another client or another person, or no registered URI) gets the confirmation
page, whose CSRF-protected button signs out: a link or a form alone, which any site can make,
ends nobody's sign-in. The page carries the request on in its form as the gateway resolved it
(client, registered URI, `state`, language), never the hint.

Logout CSRF: another site can make a browser send a valid hint too, by a link or a form. It
then ends at most the sign-in of the hint's own person (anyone else's is not ended unasked),
and the forger must hold that person's ID token: that is acceptable, as it does no more than
the person's own sign-out button (they are asked for their password next time). A POST from
another site comes without the sign-in cookie (it is `SameSite=Lax`), so "nobody is signed in"
cannot be told from "the browser kept the cookie back": such a POST is asked first
(`Sec-Fetch-Site: cross-site`), and no answer deletes a cookie it was not shown.
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gateway.oauth import service
from gateway.oauth.browser import SIGN_IN_COOKIE, cookie_signer
from gateway.oauth.clients import active_client
from gateway.oauth.idtokens import IdTokenSigner
from gateway.oauth.pages import language, render
from gateway.settings import GatewaySettings
from services.common.openapi import form_example
from services.common.uow import UnitOfWork, UnitOfWorkDep

router = APIRouter(tags=["sign-in"])
PAGE = {"content": {"text/html": {}}, "description": "A page for the person"}
BACK = {"description": "To the registered post-logout URI, with `state`"}
ASKED = {"content": {"text/html": {}}, "description": "The confirmation page: the form expired"}
FormField = Annotated[str | None, Form()]


@dataclass(frozen=True)
class LogoutRequest:
    client_id: str | None
    uri: str | None  # the post-logout URI, only if registered for the client
    state: str | None
    hinted_subject: uuid.UUID | None  # the person of a valid `id_token_hint`

    @property
    def target(self) -> str | None:
        return service.with_params(self.uri, {"state": self.state}) if self.uri else None

    def carried(self, lang: str) -> dict[str, str]:
        """What the confirmation page's form sends on: the request as resolved, in the page's
        language; the hint has done its part (naming the client) and stays behind."""
        fields = {
            "client_id": self.client_id,
            "post_logout_redirect_uri": self.uri,
            "state": self.state,
            "ui_locales": lang,
        }
        return {name: value for name, value in fields.items() if value is not None}


def _hint(request: Request, params: Mapping[str, str]) -> dict[str, Any] | None:
    """The `id_token_hint`'s claims if this gateway issued it, within a sign-in's lifetime."""
    hint = params.get("id_token_hint")
    if not hint:
        return None
    settings: GatewaySettings = request.app.state.settings
    signer: IdTokenSigner = request.app.state.id_token_signer
    return signer.hinted(hint, max_age_seconds=settings.refresh_token_seconds)


async def _logout_request(
    uow: UnitOfWork, request: Request, params: Mapping[str, str]
) -> LogoutRequest:
    """The client is the hint's audience (`client_id`, if also sent, must be the same, as the
    spec requires), else the named one; only a URI registered for it is followed."""
    claims = _hint(request, params)
    named = params.get("client_id")
    state = params.get("state")
    if claims is not None and named is not None and named != claims["aud"]:
        return LogoutRequest(None, None, state, None)
    client = await active_client(uow, claims["aud"] if claims is not None else named)
    if client is None:
        return LogoutRequest(None, None, state, None)
    subject = uuid.UUID(claims["sub"]) if claims is not None else None
    uri = params.get("post_logout_redirect_uri")
    registered = uri if uri in client.post_logout_redirect_uris else None
    return LogoutRequest(client.client_id, registered, state, subject)


def _one_step(request: Request, ask: LogoutRequest) -> bool:
    """A valid hint, a registered URI, and the sign-in here (if any) the hint's person's."""
    if ask.target is None or ask.hinted_subject is None:
        return False
    session = cookie_signer(request).signed_in(request)
    if session is None:
        # No cookie on a POST from another site says nothing: the browser keeps it back.
        return request.headers.get("sec-fetch-site") != "cross-site"
    # Someone else signed in here: their sign-in is not the hint's to end unasked.
    return session.user_id == ask.hinted_subject


def _signed_out(
    uow: UnitOfWork, request: Request, ask: LogoutRequest, params: Mapping[str, str]
) -> Response:
    """Ends the browser's sign-in; back to the client's URI, or a page saying so."""
    signer = cookie_signer(request)
    session = signer.signed_in(request)
    if session is not None:
        uow.audit.record("auth.logout", "user", session.user_id, detail=f"client={ask.client_id}")
    lang = language(request, params)
    response: Response = (
        RedirectResponse(ask.target, 303)
        if ask.target
        else render(request, "signed_out.html", {}, params=ask.carried(lang))
    )
    if SIGN_IN_COOKIE in request.cookies:  # a cookie kept back stays as it is
        signer.sign_out(response)
    return response


def _confirmation(
    request: Request, ask: LogoutRequest, params: Mapping[str, str], status_code: int = 200
) -> HTMLResponse:
    carried = ask.carried(language(request, params))
    context = {"action": request.url.path, "fields": carried}
    return render(request, "sign_out.html", context, status_code, params=carried)


@router.get(
    "/oauth/logout",
    response_class=HTMLResponse,
    summary="Sign out of the gateway in this browser (RP-Initiated Logout)",
    responses={200: PAGE, 303: BACK},
)
async def logout_page(request: Request, uow: UnitOfWorkDep) -> Response:
    """Takes `id_token_hint`, `client_id`, `post_logout_redirect_uri` (one registered for the
    client), `state` and `ui_locales`. With a hint this gateway issued to the client, for the
    person signed in here (or nobody), and a registered URI: signed out and sent back at once.
    Otherwise a page asks first. A relying party should rather POST them: see below."""
    params = request.query_params
    ask = await _logout_request(uow, request, params)
    if _one_step(request, ask):
        return _signed_out(uow, request, ask, params)
    return _confirmation(request, ask, params)


@router.post(
    "/oauth/logout",
    response_class=HTMLResponse,
    summary="Sign out of the gateway in this browser (RP-Initiated Logout, by POST)",
    responses={200: PAGE, 303: BACK, 400: ASKED},
    openapi_extra=form_example(
        id_token_hint="eyJhbGciOiJSUzI1NiIsImtpZCI6ImlkLTIwMjUifQ.eyJzdWIiOiI0ZjZhIn0.c2ln",
        client_id="kuzbass-mis-web",
        post_logout_redirect_uri="https://mis.kuzbass.example/signed-out",
        state="af0ifjsldkj",
    ),
)
async def logout(
    request: Request,
    uow: UnitOfWorkDep,
    id_token_hint: FormField = None,
    client_id: FormField = None,
    post_logout_redirect_uri: FormField = None,
    state: FormField = None,
    ui_locales: FormField = None,
    csrf_token: FormField = None,
) -> Response:
    """The same parameters as the GET, as a form (`application/x-www-form-urlencoded`), so
    that the ID token is in no URL: signed out in one step on the same terms. Else, the
    confirmation page's own form (with its CSRF token) signs out; any other POST gets that
    page, a 400 if it carried a CSRF token that is not right (expired, or forged)."""
    sent = {
        "id_token_hint": id_token_hint,
        "client_id": client_id,
        "post_logout_redirect_uri": post_logout_redirect_uri,
        "state": state,
        "ui_locales": ui_locales,
    }
    params = {name: value for name, value in sent.items() if value is not None}
    ask = await _logout_request(uow, request, params)
    if cookie_signer(request).csrf_valid(request, csrf_token) or _one_step(request, ask):
        return _signed_out(uow, request, ask, params)
    return _confirmation(request, ask, params, 400 if csrf_token else 200)
