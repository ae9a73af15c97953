"""The gateway's public API as the console uses it: a typed client on the kernel's
`ServiceClient`, so calls carry the request id and trace, and the gateway's refusals come back
as the kernel's problems."""

import base64
import uuid
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote, urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.common.client import ServiceClient
from services.common.errors import BadGateway

DISCOVERY_PATH = "/.well-known/openid-configuration"


class Discovery(BaseModel):
    """What the console reads of the OpenID provider metadata (OpenID Connect Discovery 1.0)."""

    model_config = ConfigDict(extra="ignore")

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    revocation_endpoint: str | None = None
    end_session_endpoint: str | None = None
    # Absent means `client_secret_basic` (Discovery 1.0, section 3).
    token_endpoint_auth_methods_supported: list[str] = Field(
        default_factory=lambda: ["client_secret_basic"]
    )
    id_token_signing_alg_values_supported: list[str] = Field(default_factory=lambda: ["RS256"])


class Tokens(BaseModel):
    """A token endpoint's answer (RFC 6749 5.1, OpenID Connect Core 3.1.3.3)."""

    model_config = ConfigDict(extra="ignore")

    access_token: str
    expires_in: int
    refresh_token: str | None = None
    id_token: str | None = None


class Me(BaseModel):
    """The signed-in person as the directory describes them."""

    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    username: str
    full_name: str
    role: str
    organization_id: uuid.UUID | None = None
    email: str | None = None
    phone: str | None = None
    language: Literal["ru", "en"] | None = None


class Organization(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    name: str
    timezone: str


class SignInSession(BaseModel):
    """One of the person's sign-ins at the gateway (the account page lists them)."""

    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    created_at: datetime
    last_used_at: datetime
    address: str
    user_agent: str
    client_name: str | None = None  # the application, for a standard sign-in
    current: bool = False  # the sign-in of the token the list was asked with


class Refused(BaseModel):
    """A refusal the page shows the person: the problem's `detail`, its `reason` where the
    gateway names one the page can translate (with its `suggestions`), and, for a form, the
    messages per field (`errors[].loc` ends with the field's name)."""

    status: int
    detail: str
    reason: str | None = None
    suggestions: list[str] = Field(default_factory=list)
    fields: dict[str, list[str]] = Field(default_factory=dict)

    @classmethod
    def of(cls, response: httpx.Response) -> "Refused":
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        fields: dict[str, list[str]] = {}
        for issue in body.get("errors") or []:
            if isinstance(issue, dict) and issue.get("loc"):
                fields.setdefault(str(issue["loc"][-1]), []).append(str(issue.get("msg", "")))
        detail = body.get("detail") or body.get("error_description") or body.get("title") or ""
        reason = body.get("reason")
        suggestions = body.get("suggestions")
        return cls(
            status=response.status_code,
            detail=str(detail),
            reason=reason if isinstance(reason, str) else None,
            suggestions=[str(each) for each in suggestions]
            if isinstance(suggestions, list)
            else [],
            fields=fields,
        )


class TokenRefused(Exception):
    """The gateway refused the person's access token (their sign-in was ended elsewhere, or
    they were deactivated): the console's session is over too."""


class ClientCredentials(BaseModel):
    client_id: str
    client_secret: str


def _basic(credentials: ClientCredentials) -> dict[str, str]:
    """`client_secret_basic` (RFC 6749 2.3.1): both parts form-encoded, then Base64."""
    pair = f"{quote(credentials.client_id, safe='')}:{quote(credentials.client_secret, safe='')}"
    return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}


def internal_path(url: str) -> str:
    """The path (and query) of a URL the provider published under its public address: the
    console calls it at the gateway's internal address instead, which it is configured with
    (in a cluster the public name often does not resolve, or takes a detour, from inside)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class GatewayApi(ServiceClient):
    """The gateway's OAuth endpoints and its directory and account API, for the console."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        super().__init__(client, prefix="", name="gateway")

    async def _json(self, response: httpx.Response, model: type[BaseModel]) -> Any:
        try:
            return model.model_validate(response.json())
        except (ValueError, ValidationError) as exc:
            raise BadGateway("The gateway answered something the console cannot read.") from exc

    # OAuth 2.0 / OpenID Connect ----------------------------------------------------------

    async def discovery(self) -> Discovery:
        response = await self._client.get(DISCOVERY_PATH)
        if response.status_code != 200:
            raise BadGateway(f"The gateway's discovery document answered {response.status_code}.")
        discovery: Discovery = await self._json(response, Discovery)
        return discovery

    async def jwks(self, discovery: Discovery) -> dict[str, Any]:
        response = await self._client.get(internal_path(discovery.jwks_uri))
        if response.status_code != 200:
            raise BadGateway(f"The gateway's JWKS answered {response.status_code}.")
        keys: dict[str, Any] = response.json()
        return keys

    async def _token_call(
        self,
        discovery: Discovery,
        credentials: ClientCredentials,
        form: dict[str, str],
        endpoint: str,
    ) -> httpx.Response:
        headers: dict[str, str] = {}
        methods = discovery.token_endpoint_auth_methods_supported
        if "client_secret_basic" in methods or "client_secret_post" not in methods:
            headers = _basic(credentials)
        else:
            form = {**form, **credentials.model_dump()}
        try:
            return await self._client.post(internal_path(endpoint), data=form, headers=headers)
        except httpx.HTTPError as exc:
            raise BadGateway("The gateway could not be reached.") from exc

    async def exchange_code(
        self,
        discovery: Discovery,
        credentials: ClientCredentials,
        *,
        code: str,
        code_verifier: str,
        redirect_uri: str,
    ) -> Tokens | Refused:
        """The authorization code exchanged (RFC 6749 4.1.3, with RFC 7636's verifier)."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": code_verifier,
            "redirect_uri": redirect_uri,
        }
        response = await self._token_call(discovery, credentials, form, discovery.token_endpoint)
        if response.status_code == 200:
            tokens: Tokens = await self._json(response, Tokens)
            return tokens
        if response.status_code in (400, 401):
            return Refused.of(response)
        raise BadGateway(f"The gateway's token endpoint answered {response.status_code}.")

    async def refresh(
        self, discovery: Discovery, credentials: ClientCredentials, refresh_token: str
    ) -> Tokens | None:
        """New tokens for the refresh token (RFC 6749 6); None when the gateway refuses it
        (expired, revoked, the person deactivated): the session is over."""
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        response = await self._token_call(discovery, credentials, form, discovery.token_endpoint)
        if response.status_code == 200:
            tokens: Tokens = await self._json(response, Tokens)
            return tokens
        if response.status_code in (400, 401):
            return None
        raise BadGateway(f"The gateway's token endpoint answered {response.status_code}.")

    async def revoke(
        self, discovery: Discovery, credentials: ClientCredentials, refresh_token: str
    ) -> None:
        """RFC 7009: the refresh token, and with it the sign-in, ends at the gateway."""
        if discovery.revocation_endpoint is None:
            raise BadGateway("The gateway publishes no revocation endpoint.")
        form = {"token": refresh_token, "token_type_hint": "refresh_token"}
        response = await self._token_call(
            discovery, credentials, form, discovery.revocation_endpoint
        )
        if response.status_code != 200:
            raise BadGateway(f"The gateway's revocation endpoint answered {response.status_code}.")

    # The directory and the account -------------------------------------------------------

    def refusal(self, response: httpx.Response) -> Exception:
        """As the kernel's, but a 401 is the person's token refused, not a fault between
        services: `TokenRefused`, which signs the browser out."""
        if response.status_code == 401:
            return TokenRefused()
        return super().refusal(response)

    async def me(self, bearer: str) -> Me:
        response = await self.request("GET", "/api/directory/me", bearer)
        me: Me = await self._json(response, Me)
        return me

    async def organization(self, bearer: str, organization_id: uuid.UUID) -> Organization:
        response = await self.request(
            "GET", f"/api/directory/organizations/{organization_id}", bearer
        )
        organization: Organization = await self._json(response, Organization)
        return organization

    async def update_me(self, bearer: str, changes: dict[str, Any]) -> Me | Refused:
        """`changes` as the directory takes them: a field left out stays, None clears it."""
        response = await self.request(
            "PATCH", "/api/directory/me", bearer, ok=(200, 400, 409, 422), json=changes
        )
        if response.status_code != 200:
            return Refused.of(response)
        me: Me = await self._json(response, Me)
        return me

    async def change_password(self, bearer: str, current: str, new: str) -> Refused | None:
        """None once changed (the person's other sign-ins end, this one goes on); else what
        the gateway said: 403 a wrong current password, 422 a new one its rules refuse (with
        a `reason`), 429 too many wrong ones."""
        response = await self.request(
            "POST",
            "/api/auth/password",
            bearer,
            ok=(204, 403, 422, 429),
            json={"current_password": current, "new_password": new},
        )
        return Refused.of(response) if response.status_code >= 400 else None

    async def sessions(self, bearer: str) -> list[SignInSession]:
        """Latest used first."""
        response = await self.request("GET", "/api/auth/sessions", bearer)
        try:
            return [SignInSession.model_validate(item) for item in response.json()]
        except (TypeError, ValueError, ValidationError) as exc:
            raise BadGateway("The gateway answered something the console cannot read.") from exc

    async def end_session(self, bearer: str, session_id: uuid.UUID) -> None:
        await self.request("DELETE", f"/api/auth/sessions/{session_id}", bearer, ok=(204,))
