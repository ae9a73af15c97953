"""Join tokens: short-lived Ed25519 JWTs for one room and one identity with explicit grants.

They are not gateway access tokens (own issuer, audience and `typ`), so neither kind of token
can be replayed as the other. A token only says who may try to join; removal and room closing
are checked against the database on every use, so they win over any unexpired token.
"""

import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.common.errors import Forbidden, Unauthorized
from services.video.enums import Grant, ParticipantRole

ISSUER = "telemed-video"
AUDIENCE = "telemed-video-room"
TOKEN_TYPE = "join+jwt"


@dataclass(frozen=True)
class JoinClaims:
    room_id: uuid.UUID
    identity: str
    name: str
    role: ParticipantRole
    grants: frozenset[Grant]
    expires_at: int
    # A ward's watch token names the watcher's organisation, whose agreement to watch the
    # ward is checked on every use (and ends a viewing when it ends).
    organization_id: uuid.UUID | None = None

    def require(self, grant: Grant) -> None:
        if grant not in self.grants:
            raise Forbidden(f"This join token lacks the {grant.value} grant.")


def is_join_token(token: str) -> bool:
    try:
        return bool(jwt.get_unverified_header(token).get("typ") == TOKEN_TYPE)
    except jwt.PyJWTError:
        return False


class JoinTokens:
    def __init__(self, key: Ed25519PrivateKey, lifetime_seconds: int) -> None:
        self._key = key
        self._public = key.public_key()
        self.lifetime_seconds = lifetime_seconds

    def issue(
        self,
        room_id: uuid.UUID,
        identity: str,
        name: str,
        role: ParticipantRole,
        grants: frozenset[Grant],
        *,
        lifetime_seconds: int | None = None,
        organization_id: uuid.UUID | None = None,
    ) -> tuple[str, int]:
        now = int(time.time())
        expires_at = now + (lifetime_seconds or self.lifetime_seconds)
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": identity,
            "room": str(room_id),
            "name": name,
            "role": role.value,
            "grants": sorted(grant.value for grant in grants),
            "iat": now,
            "exp": expires_at,
            "jti": uuid.uuid4().hex,
        }
        if organization_id is not None:
            claims["org"] = str(organization_id)
        token = jwt.encode(claims, self._key, algorithm="EdDSA", headers={"typ": TOKEN_TYPE})
        return token, expires_at

    def verify(self, token: str, room_id: uuid.UUID | None = None) -> JoinClaims:
        """The token's claims; `room_id` rejects a valid token for another room."""
        try:
            if jwt.get_unverified_header(token).get("typ") != TOKEN_TYPE:
                raise Unauthorized("This is not a room join token.")
            claims = jwt.decode(
                token,
                self._public,
                algorithms=["EdDSA"],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "sub", "aud", "iss"]},
            )
            parsed = JoinClaims(
                room_id=uuid.UUID(claims["room"]),
                identity=str(claims["sub"]),
                name=str(claims["name"]),
                role=ParticipantRole(claims["role"]),
                grants=frozenset(Grant(grant) for grant in claims["grants"]),
                expires_at=int(claims["exp"]),
                organization_id=uuid.UUID(claims["org"]) if "org" in claims else None,
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("The join link has expired.", reason="expired") from exc
        except (jwt.PyJWTError, KeyError, ValueError, TypeError) as exc:
            raise Unauthorized("The join token is not valid.", reason="invalid") from exc
        if room_id is not None and parsed.room_id != room_id:
            raise Forbidden("This join token is for another room.")
        return parsed
