"""The dependency aliases every page shares: settings, the gateway's API, the session store, the
visitor's session (signed in or not) and the CSRF check of forms."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from services.common.errors import Forbidden
from services.common.languages import preferred_language
from web.gateway_api import GatewayApi
from web.i18n import DEFAULT_LANGUAGE, LANGUAGES, supported
from web.models import BrowserSession
from web.oidc import Provider
from web.sessions import SessionStore
from web.settings import WebSettings

CSRF_FIELD = "csrf_token"


class SignInRequired(Exception):
    """The page needs a signed-in person: the browser is sent to sign in, then back here."""

    def __init__(self, return_to: str) -> None:
        super().__init__(return_to)
        self.return_to = return_to


def _settings(request: Request) -> WebSettings:
    settings: WebSettings = request.app.state.settings
    return settings


def _store(request: Request) -> SessionStore:
    store: SessionStore = request.app.state.sessions
    return store


def _provider(request: Request) -> Provider:
    provider: Provider = request.app.state.provider
    return provider


def _api(request: Request) -> GatewayApi:
    api: GatewayApi = request.app.state.gateway_api
    return api


SettingsDep = Annotated[WebSettings, Depends(_settings)]
StoreDep = Annotated[SessionStore, Depends(_store)]
ProviderDep = Annotated[Provider, Depends(_provider)]
ApiDep = Annotated[GatewayApi, Depends(_api)]


async def resolve_visitor(request: Request) -> BrowserSession | None:
    """The browser's session, if it has a live one, and the language of the request: the
    session's (the person's setting once signed in), else the browser's `Accept-Language`,
    else Russian. Kept on the request, so error pages find them too."""
    if not hasattr(request.state, "language"):
        store: SessionStore = request.app.state.sessions
        visitor = await store.load(request)
        request.state.visitor = visitor
        asked = request.headers.get("accept-language")
        request.state.language = (visitor and supported(visitor.language)) or preferred_language(
            asked, LANGUAGES, DEFAULT_LANGUAGE
        )
    found: BrowserSession | None = request.state.visitor
    return found


VisitorDep = Annotated[BrowserSession | None, Depends(resolve_visitor)]


@dataclass(frozen=True)
class SignedIn:
    """A signed-in session and an access token for this request's calls to the gateway."""

    session: BrowserSession
    access_token: str


def return_path(request: Request) -> str:
    """Where to come back after signing in: a GET page itself, else the page a form was on."""
    if request.method == "GET":
        return request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/"


async def _signed_in(
    request: Request, visitor: VisitorDep, store: StoreDep, provider: ProviderDep
) -> SignedIn:
    if visitor is None or not visitor.signed_in:
        raise SignInRequired(return_path(request))
    # `SessionExpired` (the gateway refused to renew) is answered by web/errors.py.
    token = await store.access_token(visitor, provider)
    return SignedIn(visitor, token)


SignedInDep = Annotated[SignedIn, Depends(_signed_in)]


async def _form(request: Request, visitor: VisitorDep, store: StoreDep) -> BrowserSession:
    """Any session (signed in or not) whose form carries its CSRF token; anything else is a
    403, before the form does anything."""
    form = await request.form()
    token = form.get(CSRF_FIELD)
    if visitor is None or not store.csrf_valid(visitor, token if isinstance(token, str) else None):
        raise Forbidden("The form has expired or did not come from this site; reload the page.")
    return visitor


FormSessionDep = Annotated[BrowserSession, Depends(_form)]


async def _signed_in_form(_checked: FormSessionDep, signed_in: SignedInDep) -> SignedIn:
    """The CSRF token is checked first: a forged form costs no renewal at the gateway."""
    return signed_in


SignedInFormDep = Annotated[SignedIn, Depends(_signed_in_form)]
