"""The verified-token cache never outlives a token or the key that signed it."""

import asyncio
import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.common.auth import TokenVerifier
from services.common.errors import Unauthorized
from services.common.keys import public_jwk


class RotatingJwks:
    def __init__(self) -> None:
        self.key = Ed25519PrivateKey.generate()
        self.fetches = 0

    async def __call__(self, _force: bool) -> dict[str, Any]:
        self.fetches += 1
        return {"keys": [public_jwk(self.key.public_key())]}

    def token(self, lifetime: float) -> str:
        now = time.time()
        claims = {"iss": "i", "aud": "a", "sub": str(uuid.uuid4()), "iat": int(now),
                  "exp": now + lifetime, "role": "specialist"}  # fmt: skip
        kid = public_jwk(self.key.public_key())["kid"]
        return jwt.encode(claims, self.key, algorithm="EdDSA", headers={"kid": kid})


def _verifier(jwks: RotatingJwks) -> TokenVerifier:
    return TokenVerifier(
        jwks, issuer="i", audience="a", algorithms=["EdDSA"], leeway=0, min_refresh=0
    )


async def test_cached_token_still_expires() -> None:
    jwks = RotatingJwks()
    verifier = _verifier(jwks)
    token = jwks.token(lifetime=1.0)
    first = await verifier.verify(token)
    assert (await verifier.verify(token)) == first
    await asyncio.sleep(1.1)  # real time must pass for the token to expire
    with pytest.raises(Unauthorized, match="expired"):
        await verifier.verify(token)


async def test_withdrawn_key_stops_cached_tokens() -> None:
    jwks = RotatingJwks()
    verifier = _verifier(jwks)
    token = jwks.token(lifetime=600)
    await verifier.verify(token)
    jwks.key = Ed25519PrivateKey.generate()  # the issuer rotates and withdraws the old key
    await verifier.verify(jwks.token(lifetime=600))  # a new kid forces a JWKS refresh
    with pytest.raises(Unauthorized, match="unknown key"):
        await verifier.verify(token)
