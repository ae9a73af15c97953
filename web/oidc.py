"""The console as an OpenID Connect relying party: the authorization request (PKCE S256, state,
nonce) and the ID token's checks (signature from the provider's JWKS, issuer, audience, expiry,
nonce)."""

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import jwt

from services.common.errors import BadGateway
from services.common.keys import same_secret
from web.gateway_api import ClientCredentials, Discovery, GatewayApi
from web.settings import WebSettings

# What the console asks for: who signed in, their name, and a refresh token to stay signed in
# for the session's length (the gateway's access tokens live minutes).
SCOPES = "openid profile offline_access"
# The provider's metadata and keys are read again after this long; an unknown key id is looked
# up at once (at most every `MIN_KEY_REFRESH` seconds), so a key rotation never fails a sign-in.
METADATA_SECONDS = 300.0
MIN_KEY_REFRESH = 10.0
LEEWAY_SECONDS = 30


class InvalidIdToken(Exception):
    """The ID token failed a check; the sign-in is refused."""


@dataclass(frozen=True)
class AuthorizationRequest:
    state: str
    nonce: str
    code_verifier: str

    @classmethod
    def new(cls) -> "AuthorizationRequest":
        # 32 random bytes each: RFC 7636 asks 43-128 characters of the verifier.
        return cls(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            code_verifier=secrets.token_urlsafe(64),
        )

    @property
    def code_challenge(self) -> str:
        digest = hashlib.sha256(self.code_verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def url(self, discovery: Discovery, settings: WebSettings, language: str) -> str:
        """Where the browser goes to sign in: the provider's authorization endpoint, as it
        published it for browsers."""
        query = {
            "response_type": "code",
            "client_id": settings.oauth_client_id,
            "redirect_uri": settings.redirect_uri(),
            "scope": SCOPES,
            "state": self.state,
            "nonce": self.nonce,
            "code_challenge": self.code_challenge,
            "code_challenge_method": "S256",
            "ui_locales": language,
        }
        return f"{discovery.authorization_endpoint}?{urlencode(query)}"


class Provider:
    """The gateway as the console's OpenID provider: its metadata, keys and client credentials,
    read when needed and kept a few minutes."""

    def __init__(self, api: GatewayApi, settings: WebSettings) -> None:
        self.api = api
        self.settings = settings
        self._discovery: Discovery | None = None
        self._discovered_at = float("-inf")
        self._keys: dict[str, jwt.PyJWK] = {}
        self._keys_at = float("-inf")

    async def discovery(self) -> Discovery:
        if self._discovery is None or time.monotonic() - self._discovered_at > METADATA_SECONDS:
            self._discovery = await self.api.discovery()
            self._discovered_at = time.monotonic()
        return self._discovery

    def credentials(self) -> ClientCredentials:
        """Read on every use, so a secret `telemed seed` writes anew is taken up at once."""
        secret = self.settings.client_secret()
        if not secret:
            raise BadGateway(
                "The console is not registered at the gateway: run `telemed seed` (or register "
                "it and set TELEMED_WEB_OAUTH_CLIENT_SECRET)."
            )
        return ClientCredentials(client_id=self.settings.oauth_client_id, client_secret=secret)

    async def _key(self, kid: str) -> jwt.PyJWK:
        stale = time.monotonic() - self._keys_at
        if stale > METADATA_SECONDS or (kid not in self._keys and stale > MIN_KEY_REFRESH):
            document = await self.api.jwks(await self.discovery())
            try:
                keys = jwt.PyJWKSet.from_dict(document).keys
            except (jwt.PyJWKError, jwt.PyJWKSetError) as exc:
                raise BadGateway("The gateway's keys cannot be read.") from exc
            self._keys = {key.key_id: key for key in keys if key.key_id}
            self._keys_at = time.monotonic()
        if kid not in self._keys:
            raise InvalidIdToken("signed by a key the provider does not publish")
        return self._keys[kid]

    async def verify_id_token(self, token: str, nonce: str) -> dict[str, Any]:
        """The ID token's claims once every check of OpenID Connect Core 3.1.3.7 that applies
        to a confidential client holds."""
        discovery = await self.discovery()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidIdToken("malformed") from exc
        algorithm, kid = header.get("alg"), header.get("kid")
        if algorithm not in discovery.id_token_signing_alg_values_supported or algorithm in (
            "none",
            "HS256",
            "HS384",
            "HS512",
        ):
            raise InvalidIdToken(f"signed with {algorithm!r}")
        if not isinstance(kid, str):
            raise InvalidIdToken("names no key")
        key = await self._key(kid)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=[algorithm],
                audience=self.settings.oauth_client_id,
                issuer=discovery.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["iss", "sub", "aud", "exp", "iat"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidIdToken(str(exc)) from exc
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.settings.oauth_client_id:
            raise InvalidIdToken("issued to another party as well")
        if not same_secret(nonce, str(claims.get("nonce", ""))):
            raise InvalidIdToken("its nonce is not this sign-in's")
        return claims
