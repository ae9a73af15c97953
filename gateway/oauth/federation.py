"""Signing in with an external OpenID provider: the authorization code flow with PKCE against
it, its ID token checked, and its person mapped to a directory user.

Authlib makes the authorization URL (with the S256 challenge) and its OpenID claims class
checks the ID token's issuer, audience, nonce, expiry and `at_hash` once joserfc has checked
the signature against the provider's JWKS. The code is exchanged with plain httpx: Authlib's
httpx client warns that its support of httpx (rather than its fork httpx2) is deprecated, and
the exchange is one form POST. The provider's discovery document and JWKS are kept in memory,
the JWKS fetched again when a token names a key it lacks (the provider rotated). An HTTP
client is made per call, not kept open: federated sign-ins are a few per person per day.

A person is never created here: the provider's subject is looked up in `federated_identities`,
and otherwise, when so configured, linked once to the active user whose username or email the
configured claim holds. Anyone else is refused with a page saying so.
"""

import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from sqlalchemy import func, select

from gateway.models import User
from gateway.oauth import service
from gateway.oauth.browser import FEDERATION_COOKIE, cookie_signer
from gateway.oauth.models import FederatedIdentity
from gateway.oauth.pages import error_page
from gateway.settings import GatewaySettings
from services.common.audit import Outcome
from services.common.keys import same_secret
from services.common.uow import UnitOfWork, UnitOfWorkDep

router = APIRouter(tags=["sign-in"])
CALLBACK = "/oauth/federation/callback"
PENDING_SECONDS = 600  # to sign in at the provider
METADATA_SECONDS = 3600.0
LEEWAY_SECONDS = 60


class FederationError(Exception):
    """The provider's answer cannot be trusted or used; the reason goes to the audit trail."""


@dataclass
class Provider:
    """The configured provider: its discovery document and keys, fetched when first needed."""

    settings: GatewaySettings
    metadata: dict[str, Any] | None = None
    fetched_at: float = float("-inf")
    jwks: dict[str, Any] | None = None

    @property
    def issuer(self) -> str:
        return self.settings.oidc_federation_issuer.rstrip("/")

    @property
    def redirect_uri(self) -> str:
        return self.settings.public_url.rstrip("/") + CALLBACK

    async def authorization_url(self, *, state: str, nonce: str, verifier: str) -> str:
        url: str = prepare_grant_uri(
            (await self.discovery())["authorization_endpoint"],
            client_id=self.settings.oidc_federation_client_id,
            response_type="code",
            redirect_uri=self.redirect_uri,
            scope=self.settings.oidc_federation_scopes,
            state=state,
            nonce=nonce,
            code_challenge=create_s256_code_challenge(verifier),
            code_challenge_method="S256",
        )
        return url

    async def exchange(self, code: str, verifier: str) -> dict[str, Any]:
        """The token response for `code` (RFC 6749 4.1.3), the client's secret sent as Basic:
        id and secret form-urlencoded first (2.3.1), so a `:` or `%` in either arrives intact
        (unreserved characters, most providers' whole alphabet, stay as they are)."""
        secret = self.settings.oidc_federation_client_secret.get_secret_value()
        client_id = self.settings.oidc_federation_client_id
        form = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier}
        form["redirect_uri"] = self.redirect_uri
        if not secret:
            form["client_id"] = client_id
        async with httpx.AsyncClient(timeout=self.settings.oidc_federation_timeout) as http:
            response = await http.post(
                (await self.discovery())["token_endpoint"],
                data=form,
                auth=(
                    httpx.BasicAuth(quote(client_id, safe=""), quote(secret, safe=""))
                    if secret
                    else httpx.USE_CLIENT_DEFAULT
                ),
                headers={"Accept": "application/json"},
            )
        if response.status_code != 200:
            raise FederationError(f"code exchange refused ({response.status_code})")
        tokens: dict[str, Any] = response.json()
        return tokens

    async def _get(self, url: str) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=self.settings.oidc_federation_timeout) as http:
            response = await http.get(url)
            response.raise_for_status()
            document: dict[str, Any] = response.json()
            return document

    async def discovery(self) -> dict[str, Any]:
        if self.metadata is None or time.monotonic() - self.fetched_at > METADATA_SECONDS:
            document = await self._get(f"{self.issuer}/.well-known/openid-configuration")
            if str(document.get("issuer", "")).rstrip("/") != self.issuer:
                raise FederationError("the discovery document names another issuer")
            self.metadata, self.fetched_at, self.jwks = document, time.monotonic(), None
        return self.metadata

    async def keys(self, *, force: bool = False) -> KeySet:
        if self.jwks is None or force:
            self.jwks = await self._get((await self.discovery())["jwks_uri"])
        return KeySet.import_key_set(self.jwks)  # type: ignore[arg-type]  # a JWKS document

    async def verified_claims(
        self, id_token: str, *, nonce: str, access_token: str | None
    ) -> dict[str, Any]:
        """The ID token's claims once its signature, issuer, audience, nonce and expiry hold."""
        algorithms = (await self.discovery()).get("id_token_signing_alg_values_supported")
        registry = JWSRegistry(algorithms=[a for a in algorithms or ["RS256"] if a != "none"])
        try:
            try:
                token = jwt.decode(id_token, await self.keys(), registry=registry)
            except InvalidKeyIdError:
                token = jwt.decode(id_token, await self.keys(force=True), registry=registry)
            client_id = self.settings.oidc_federation_client_id
            params = {"nonce": nonce, "client_id": client_id}
            if access_token:
                params["access_token"] = access_token
            # The audience is checked here: Authlib's class checks only `azp` against it.
            options = {
                "iss": {"essential": True, "values": [self.issuer]},
                "aud": {"essential": True, "values": [client_id]},
                "nonce": {"essential": True, "values": [nonce]},
            }
            claims = CodeIDToken(token.claims, token.header, options, params)
            claims.validate(now=int(time.time()), leeway=LEEWAY_SECONDS)
        except (JoseError, ValueError) as exc:
            raise FederationError(f"ID token refused: {exc}") from exc
        return dict(claims)


def provider(request: Request) -> Provider:
    found: Provider = request.app.state.federation
    return found


def _settings(request: Request) -> GatewaySettings:
    settings: GatewaySettings = request.app.state.settings
    return settings


@router.get(
    "/oauth/federation/start",
    response_class=HTMLResponse,
    summary="Sign in with the configured external OpenID provider",
    responses={303: {"description": "To the provider"}, 400: {"content": {"text/html": {}}},
               404: {"content": {"text/html": {}}}},
)  # fmt: skip
async def start(request: Request, uow: UnitOfWorkDep) -> Response:
    """Takes the pending authorization request's parameters (the sign-in page's link carries
    them) and sends the browser to the provider; the request goes on after the callback."""
    if not _settings(request).oidc_federation_issuer:
        return error_page(request, "federation_off", 404)
    try:
        await service.validate(uow, request.query_params)
    except service.PageError as exc:
        return error_page(request, exc.reason)
    except service.RedirectError as exc:
        return RedirectResponse(service.error_redirect(_settings(request), exc), 303)
    state, nonce, verifier = (secrets.token_urlsafe(n) for n in (24, 24, 48))
    try:
        location = await provider(request).authorization_url(
            state=state, nonce=nonce, verifier=verifier
        )
    except (httpx.HTTPError, KeyError, ValueError, FederationError):
        return error_page(request, "federation_failed", 400)
    pending = {
        "state": state,
        "nonce": nonce,
        "verifier": verifier,
        "query": request.url.query,
        "exp": int(time.time()) + PENDING_SECONDS,
    }
    response = RedirectResponse(location, 303)
    signer = cookie_signer(request)
    signer.set_cookie(
        response, FEDERATION_COOKIE, signer.seal("federation", pending), PENDING_SECONDS
    )
    return response


async def _exchange(request: Request, pending: dict[str, Any]) -> dict[str, Any]:
    code, state = request.query_params.get("code"), request.query_params.get("state")
    if not state or not same_secret(str(pending["state"]), state):
        raise FederationError("state does not match")
    if not code:
        raise FederationError(f"the provider answered {request.query_params.get('error')!r}")
    found = provider(request)
    try:
        token = await found.exchange(code, str(pending["verifier"]))
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        raise FederationError(f"code exchange failed: {exc!r}") from exc
    if not isinstance(token.get("id_token"), str):
        raise FederationError("the provider sent no ID token")
    return await found.verified_claims(
        token["id_token"], nonce=str(pending["nonce"]), access_token=token.get("access_token")
    )


async def directory_user(
    uow: UnitOfWork, settings: GatewaySettings, issuer: str, claims: dict[str, Any]
) -> User | None:
    """The active user this provider's person is, linking them on first sign-in if allowed."""
    subject = str(claims["sub"])
    linked = await uow.session.scalar(
        select(User)
        .join(FederatedIdentity, FederatedIdentity.user_id == User.id)
        .where(FederatedIdentity.issuer == issuer, FederatedIdentity.subject == subject)
    )
    if linked is not None:
        return linked if linked.is_active else None
    value = claims.get(settings.oidc_federation_claim)
    if not settings.oidc_federation_link_on_first_match or not isinstance(value, str):
        return None
    column = User.username if settings.oidc_federation_claim == "preferred_username" else User.email
    matches = (
        await uow.session.scalars(
            select(User).where(func.lower(column) == value.strip().lower(), User.is_active)
        )
    ).all()
    if len(matches) != 1:  # none, or an email two people share: nobody to link
        return None
    user = matches[0]
    uow.session.add(FederatedIdentity(issuer=issuer, subject=subject, user_id=user.id))
    await uow.session.flush()
    uow.audit.record("auth.federated_link", "user", user.id, detail=f"issuer={issuer}")
    return user


@router.get(
    CALLBACK,
    response_class=HTMLResponse,
    summary="Where the external provider sends the browser back",
    responses={303: {"description": "On to the pending authorization request"},
               400: {"content": {"text/html": {}}}, 403: {"content": {"text/html": {}}}},
)  # fmt: skip
async def callback(request: Request, uow: UnitOfWorkDep) -> Response:
    """Not called by integrators: the external OpenID provider redirects the browser here with
    `code` and `state`. The ID token is checked and its person mapped to a directory user,
    then the browser goes on (303) to the pending `/oauth/authorize` request; a person with no
    directory user, or a failed check, gets a page saying so (403, 400)."""
    signer = cookie_signer(request)
    pending = signer.unseal("federation", request.cookies.get(FEDERATION_COOKIE))
    settings, found = _settings(request), provider(request)
    if pending is None or not settings.oidc_federation_issuer:
        return error_page(request, "federation_failed")
    try:
        claims = await _exchange(request, pending)
    except FederationError as exc:
        uow.audit.record(
            "auth.federated_login", "user", None, Outcome.DENIED, detail=str(exc)[:500]
        )
        return error_page(request, "federation_failed")
    user = await directory_user(uow, settings, found.issuer, claims)
    if user is None:
        uow.audit.record(
            "auth.federated_login", "user", None, Outcome.DENIED,
            detail=f"issuer={found.issuer} subject={claims['sub']} unknown",
        )  # fmt: skip
        return error_page(request, "federation_unknown", 403)
    uow.audit.record("auth.federated_login", "user", user.id, detail=f"issuer={found.issuer}")
    response = RedirectResponse(f"/oauth/authorize?{pending['query']}", 303)
    signer.sign_in(response, user.id, user.password_hash)
    response.delete_cookie(FEDERATION_COOKIE, path="/oauth")
    return response
