"""Who is calling: access tokens verified against the gateway's JWKS (RFC 8725), `Principal`."""

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Annotated, Any

import httpx
import jwt
from fastapi import Depends, Request
from pydantic import BaseModel, ConfigDict

from services.common.errors import Forbidden, Unauthorized

ACCESS_TOKEN_TYPE = "at+jwt"
JwksProvider = Callable[[bool], Awaitable[dict[str, Any]]]
VERIFIED_CACHE_SIZE = 10_000


class Role(StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    DISTRICT_MEDIC = "district_medic"
    SPECIALIST = "specialist"
    PATIENT = "patient"
    API_CLIENT = "api_client"


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

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

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


class TokenVerifier:
    """Verifies access tokens: allow-listed asymmetric algorithms, key by `kid`, iss/aud/exp.

    Unknown key ids trigger one JWKS refresh (key rotation) at most every `min_refresh` seconds,
    so a flood of forged `kid`s cannot turn into a flood of JWKS fetches.
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
        self._verified: dict[str, tuple[Principal, float]] = {}

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
        cached = self._verified.get(token)
        if cached is not None and time.time() < cached[1]:
            return cached[0]
        principal, expires_at = await self._verify_signed(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = (principal, expires_at)
        return principal

    async def _verify_signed(self, token: str) -> tuple[Principal, float]:
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
        return Principal.from_claims(claims), float(claims["exp"])


def bearer_token(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("A bearer access token is required.")
    return token.strip()


def require_client_scope(principal: Principal, scope: str) -> None:
    """API clients need the scope for what they do; people are limited by role alone."""
    if principal.role is Role.API_CLIENT and not principal.has_scope(scope):
        raise Forbidden(f"This API client lacks the {scope} scope.")


async def current_principal(request: Request) -> Principal:
    verifier: TokenVerifier = request.app.state.token_verifier
    principal = await verifier.verify(bearer_token(request))
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
