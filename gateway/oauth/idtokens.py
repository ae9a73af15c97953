"""OpenID Connect ID tokens, signed RS256 with an RSA key kept beside the access-token key.

Why RS256 and a second key: OpenID Connect Core (section 15.1) requires every provider to
support RS256, and it is the one algorithm every relying party's library verifies, while EdDSA
is missing from many (and JWS EdDSA is not in the OpenID certification's baseline). Access
tokens stay EdDSA, verified only by telemed's own services. The RSA key is created on first
start under the var dir (`id_token_key_path`) and listed in the same JWKS, with its own `kid`,
`alg` and `use`, so a client verifies ID tokens from `jwks_uri` as discovery says. An ID token
is no access token to the services: its issuer is the public URL and its audience the client,
whereas they take only the issuer `telemed-gateway` and the audience `telemed`.
"""

import base64
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, generate_private_key

from services.common.keys import load_or_create_key

ALGORITHM = "RS256"


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def load_or_create_rsa_key(path: Path) -> RSAPrivateKey:
    """The key at `path`; on first start a new 2048-bit one, readable only by its owner."""
    key = load_or_create_key(path, lambda: generate_private_key(65537, key_size=2048))
    if not isinstance(key, RSAPrivateKey):
        raise ValueError(f"{path} does not hold an RSA private key")
    return key


class IdTokenSigner:
    def __init__(self, key: RSAPrivateKey, *, issuer: str, lifetime_seconds: int) -> None:
        self._key = key
        numbers = key.public_key().public_numbers()
        members = {"e": _b64url_uint(numbers.e), "kty": "RSA", "n": _b64url_uint(numbers.n)}
        digest = hashlib.sha256(json.dumps(members, separators=(",", ":")).encode()).digest()
        kid = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()  # RFC 7638 thumbprint
        self.jwk: dict[str, Any] = {**members, "kid": kid, "alg": ALGORITHM, "use": "sig"}
        self.issuer = issuer
        self.lifetime_seconds = lifetime_seconds

    def sign(self, claims: dict[str, Any], *, audience: str) -> str:
        """An ID token for `audience` (the client) with the given claims (sub, nonce, ...)."""
        now = int(time.time())
        body = {
            **claims,
            "iss": self.issuer,
            "aud": audience,
            "iat": now,
            "exp": now + self.lifetime_seconds,
        }
        return jwt.encode(
            body, self._key, algorithm=ALGORITHM, headers={"kid": self.jwk["kid"], "typ": "JWT"}
        )

    def hinted(self, token: str, *, max_age_seconds: int) -> dict[str, Any] | None:
        """The claims of an ID token this gateway issued, shown back as `id_token_hint`
        (OpenID Connect RP-Initiated Logout 1.0, section 2): expired ones too, as the spec
        asks (a relying party signs out long after sign-in), but none issued more than
        `max_age_seconds` ago; None for anything else."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key.public_key(),
                algorithms=[ALGORITHM],
                issuer=self.issuer,
                options={
                    "verify_exp": False,
                    "verify_aud": False,  # any client's: the caller matches it to the client
                    "require": ["iss", "sub", "aud", "iat"],
                },
            )
        except jwt.PyJWTError:
            return None
        if not isinstance(claims["aud"], str) or claims["iat"] < time.time() - max_age_seconds:
            return None
        return claims
