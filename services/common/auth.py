"""Who is calling: access tokens verified (RFC 8725) against the gateway's JWKS and deny-list."""

import asyncio
import hashlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Annotated, Any, NamedTuple

import httpx
import jwt
from fastapi import Depends, Request, Security
from pydantic import BaseModel, ConfigDict

from services.common.errors import Forbidden, Unauthorized
from services.common.openapi import BEARER, OAUTH2

ACCESS_TOKEN_TYPE = "at+jwt"
JwksProvider = Callable[[bool], Awaitable[dict[str, Any]]]
RevocationsProvider = Callable[[], Awaitable[dict[str, Any]]]
VERIFIED_CACHE_SIZE = 10_000
REVOCATIONS_TIMEOUT = 2.0
logger = logging.getLogger(__name__)


class Role(StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    DISTRICT_MEDIC = "district_medic"
    SPECIALIST = "specialist"
    PATIENT = "patient"
    API_CLIENT = "api_client"
    # Registry and call-centre staff: register and find patients, book their visits, file
    # appeals on callers' behalf; nothing clinical.
    REGISTRAR = "registrar"


class Principal(BaseModel):
    """The verified caller, as the gateway's token describes them."""

    model_config = ConfigDict(frozen=True)

    subject: uuid.UUID
    username: str
    role: Role
    organization_id: uuid.UUID | None = None
    region: str | None = None
    specialty: str | None = None
    scopes: frozenset[str] = frozenset()
    # The organisations the caller's organisation serves (a call centre's), for which it acts
    # besides its own. Tokens do not carry it: a service whose rules need it asks the
    # directory (`gateway.client.DirectoryClient.acting`), which fills it in.
    serves: frozenset[uuid.UUID] = frozenset()
    # A person's sign-in the token belongs to (its `sid`, the refresh-token family), which
    # signing out and the list of one's sign-ins name; None for API clients.
    session_id: uuid.UUID | None = None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    @property
    def acting_for(self) -> frozenset[uuid.UUID]:
        """The organisations the caller acts for: their own and those it serves."""
        own = {self.organization_id} if self.organization_id is not None else set()
        return frozenset(own) | self.serves

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> "Principal":
        try:
            return cls(
                subject=uuid.UUID(claims["sub"]),
                username=claims.get("preferred_username", claims["sub"]),
                role=Role(claims["role"]),
                organization_id=uuid.UUID(claims["org"]) if claims.get("org") else None,
                region=claims.get("region"),
                specialty=claims.get("specialty"),
                scopes=frozenset(str(claims.get("scope", "")).split()),
                session_id=uuid.UUID(claims["sid"]) if claims.get("sid") else None,
            )
        except (KeyError, ValueError) as exc:
            raise Unauthorized("The access token lacks the claims telemed needs.") from exc


class HttpJwksProvider:
    """Fetches the issuer's JWKS over HTTP; the verifier decides when a refresh is due."""

    def __init__(self, url: str, client: httpx.AsyncClient) -> None:
        self.url = url
        self.client = client

    async def __call__(self, force: bool) -> dict[str, Any]:
        response = await self.client.get(self.url)
        response.raise_for_status()
        keys: dict[str, Any] = response.json()
        return keys


def revocation_key(subject: str) -> str:
    """How the deny-list names a subject or a sign-in: by digest, so the public list names
    nobody."""
    return hashlib.sha256(subject.encode()).hexdigest()[:32]


class HttpRevocationsProvider:
    """Fetches the gateway's deny-list with a conditional GET, so an unchanged list is a 304."""

    def __init__(self, url: str, client: httpx.AsyncClient) -> None:
        self.url = url
        self.client = client
        self._etag: str | None = None
        self._document: dict[str, Any] = {}

    async def __call__(self) -> dict[str, Any]:
        headers = {"If-None-Match": self._etag} if self._etag else {}
        response = await self.client.get(self.url, headers=headers, timeout=REVOCATIONS_TIMEOUT)
        if response.status_code == 304:
            return self._document
        response.raise_for_status()
        self._document = response.json()
        self._etag = response.headers.get("etag")
        return self._document


class _Verified(NamedTuple):
    principal: Principal
    expires_at: float
    issued_at: float
    revocation_keys: tuple[str, ...]  # of its subject and, for people, of its sign-in


class TokenVerifier:
    """Verifies access tokens: allow-listed asymmetric algorithms, key by `kid`, iss/aud/exp,
    and the gateway's deny-list.

    Unknown key ids trigger one JWKS refresh (key rotation) at most every `min_refresh` seconds,
    so a flood of forged `kid`s cannot turn into a flood of JWKS fetches. The deny-list (users
    deactivated, API clients revoked, sign-ins whose refresh token was stolen) is fetched at most
    every `revocations_refresh` seconds, never per request: a token of a denied subject issued
    up to its revocation is refused within that bound. If the list cannot be fetched the last
    one stays in force (the gateway being down must not stop every service).
    """

    def __init__(
        self,
        jwks: JwksProvider,
        *,
        issuer: str,
        audience: str,
        algorithms: list[str],
        cache_seconds: float = 300.0,
        min_refresh: float = 10.0,
        leeway: float = 30.0,
        revocations: RevocationsProvider | None = None,
        revocations_refresh: float = 2.0,
    ) -> None:
        unsafe = [alg for alg in algorithms if alg.lower() == "none" or alg.startswith("HS")]
        if unsafe:
            raise ValueError(f"algorithms {unsafe} are not allowed for access tokens")
        self._jwks = jwks
        self.issuer = issuer
        self.audience = audience
        self.algorithms = algorithms
        self._cache_seconds = cache_seconds
        self._min_refresh = min_refresh
        self._leeway = leeway
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()
        # Verified tokens by their exact text, until they expire: a client sends the same
        # token for 15 minutes, and the signature check is most of the cost of a request.
        self._verified: dict[str, _Verified] = {}
        self._revocations = revocations
        self._revocations_refresh = revocations_refresh
        self._revocations_at = float("-inf")
        self._revocations_lock = asyncio.Lock()
        self._revoked: dict[str, float] = {}  # revocation key -> tokens issued up to then

    async def _refresh_revocations(self) -> None:
        if self._revocations is None:
            return
        if time.monotonic() - self._revocations_at < self._revocations_refresh:
            return
        async with self._revocations_lock:
            if time.monotonic() - self._revocations_at < self._revocations_refresh:
                return
            try:
                document = await self._revocations()
                revoked = {str(e["key"]): float(e["before"]) for e in document["revoked"]}
            except Exception:  # whatever the source failed with, the last list stays
                logger.warning("the revocation list could not be refreshed", exc_info=True)
            else:
                self._revoked = revoked
            self._revocations_at = time.monotonic()  # a failure is retried after the interval

    def _is_revoked(self, verified: _Verified) -> bool:
        return any(
            self._revoked.get(key, float("-inf")) >= verified.issued_at
            for key in verified.revocation_keys
        )

    async def _refresh(self, *, force: bool) -> None:
        async with self._lock:
            age = time.monotonic() - self._fetched_at
            if age < (self._min_refresh if force else self._cache_seconds):
                return
            try:
                document = await self._jwks(force)
                keys = jwt.PyJWKSet.from_dict(document).keys
            except (httpx.HTTPError, jwt.PyJWKError, jwt.PyJWKSetError, ValueError) as exc:
                if not self._keys:
                    raise Unauthorized("Token keys are unavailable; try again shortly.") from exc
                return
            self._keys = {key.key_id: key for key in keys if key.key_id}
            self._fetched_at = time.monotonic()
            self._verified.clear()  # a key withdrawn from the JWKS stops working at once

    async def _key_for(self, kid: str) -> jwt.PyJWK:
        await self._refresh(force=False)
        if kid not in self._keys:
            await self._refresh(force=True)
        if kid not in self._keys:
            raise Unauthorized("The access token was signed by an unknown key.")
        return self._keys[kid]

    async def verify(self, token: str) -> Principal:
        verified = self._verified.get(token)
        if verified is None or time.time() >= verified.expires_at:
            verified = await self._verify_signed(token)
            if len(self._verified) >= VERIFIED_CACHE_SIZE:
                self._verified.clear()
            self._verified[token] = verified
        await self._refresh_revocations()
        if self._is_revoked(verified):
            raise Unauthorized("The access token has been revoked.")
        return verified.principal

    async def _verify_signed(self, token: str) -> _Verified:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("The access token is malformed.") from exc
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in self.algorithms:
            raise Unauthorized(f"Token algorithm {alg!r} is not accepted.")
        if header.get("typ", ACCESS_TOKEN_TYPE).lower() not in {ACCESS_TOKEN_TYPE, "jwt"}:
            raise Unauthorized("The token is not an access token.")
        if not isinstance(kid, str):
            raise Unauthorized("The access token names no key.")
        key = await self._key_for(kid)
        if key.algorithm_name != alg:
            raise Unauthorized("Token algorithm does not match its key.")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=[alg],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("The access token has expired.") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"The access token is not valid: {exc}.") from exc
        subjects = [str(claims["sub"])] + ([str(claims["sid"])] if claims.get("sid") else [])
        return _Verified(
            Principal.from_claims(claims),
            float(claims["exp"]),
            float(claims["iat"]),
            tuple(revocation_key(subject) for subject in subjects),
        )


def bearer_token(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("A bearer access token is required.")
    return token.strip()


def require_client_scope(principal: Principal, scope: str) -> None:
    """API clients need the scope for what they do; people are limited by role alone."""
    if principal.role is Role.API_CLIENT and not principal.has_scope(scope):
        raise Forbidden(f"This API client lacks the {scope} scope.")


async def current_principal(
    request: Request,
    # Only so that every route taking a token says so in its OpenAPI `security`.
    _oauth2: Annotated[str | None, Security(OAUTH2)] = None,
    _bearer: Annotated[object, Security(BEARER)] = None,
) -> Principal:
    verifier: TokenVerifier = request.app.state.token_verifier
    principal = await verifier.verify(bearer_token(request))
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
