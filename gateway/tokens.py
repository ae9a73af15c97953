"""Issues access tokens (EdDSA JWTs, RFC 9068 shape) and publishes the JWKS that verifies them."""

import time
import uuid
from collections.abc import Sequence
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from services.common.auth import ACCESS_TOKEN_TYPE, Principal
from services.common.keys import public_jwk


class TokenIssuer:
    """Signs with the current key; the JWKS also lists the `published` keys (the next and the
    previous one), so a rotation neither refuses old tokens nor races the JWKS caches."""

    def __init__(
        self,
        key: Ed25519PrivateKey,
        *,
        issuer: str,
        audience: str,
        lifetime_seconds: int,
        published: Sequence[Ed25519PublicKey] = (),
    ) -> None:
        self._key = key
        self.jwk = public_jwk(key.public_key())
        self._published = [public_jwk(public_key) for public_key in published]
        self.issuer = issuer
        self.audience = audience
        self.lifetime_seconds = lifetime_seconds

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.jwk, *self._published]}

    async def jwks_provider(self, _force: bool) -> dict[str, Any]:
        """Lets the gateway verify its own tokens without a round trip to itself."""
        return self.jwks()

    def issue(
        self,
        principal: Principal,
        *,
        session_id: uuid.UUID | None = None,
        lifetime_seconds: int | None = None,
    ) -> str:
        """`session_id`: the sign-in (refresh-token family) a person's token comes from, as
        `sid`, which the revocation list can name. `lifetime_seconds`: shorter than the usual
        life, for a token the gateway mints for one call of its own on a person's behalf."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": str(principal.subject),
            "iat": now,
            "nbf": now,
            "exp": now + min(lifetime_seconds or self.lifetime_seconds, self.lifetime_seconds),
            "jti": uuid.uuid4().hex,
            "preferred_username": principal.username,
            "role": principal.role.value,
            "scope": " ".join(sorted(principal.scopes)),
        }
        if session_id:
            claims["sid"] = str(session_id)
        if principal.organization_id:
            claims["org"] = str(principal.organization_id)
        if principal.region:
            claims["region"] = principal.region
        if principal.specialty:
            claims["specialty"] = principal.specialty
        return jwt.encode(
            claims,
            self._key,
            algorithm="EdDSA",
            headers={"kid": self.jwk["kid"], "typ": ACCESS_TOKEN_TYPE},
        )
