"""Grants: short-lived statements a service signs to hand a decision down to a service it calls.

Calls run one way (consult → scheduling → video → files → gateway). When a service lower down
must act on something only a service above it knows — may this caller read this case's files,
may this file be pinned to that case — the service above decides and hands its decision down
as a grant: a JWT (EdDSA) naming the caller, the purpose, the case and the files, valid for
minutes. The service below verifies it with the issuer's public key alone, without calling back.
"""

import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from services.common.errors import Forbidden
from services.common.keys import load_public_key, public_jwk

GRANT_HEADER = "Telemed-Grant"
DEFAULT_TTL_SECONDS = 600
# Clock skew tolerated between the issuing and the verifying process.
LEEWAY_SECONDS = 30


def default_consult_key_path(var_dir: Path) -> Path:
    """Where consult keeps its grant key on one machine, and so where the services it calls
    look for it unless told otherwise: one path, so the issuer and the verifiers agree."""
    return var_dir / "consult" / "grant_signing_key.pem"


@dataclass(frozen=True)
class Grant:
    issuer: str
    audience: str
    subject: uuid.UUID
    purpose: str
    case_id: uuid.UUID
    file_ids: frozenset[uuid.UUID]
    expires_at: float

    def covers(self, file_id: uuid.UUID) -> bool:
        return file_id in self.file_ids


class GrantIssuer:
    """Signs grants with the issuing service's private key."""

    def __init__(self, key: Ed25519PrivateKey, issuer: str) -> None:
        self._key = key
        self._kid = public_jwk(key.public_key())["kid"]
        self.issuer = issuer

    def issue(
        self,
        *,
        audience: str,
        subject: uuid.UUID,
        purpose: str,
        case_id: uuid.UUID,
        file_ids: Iterable[uuid.UUID] = (),
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
    ) -> tuple[str, float]:
        """The grant and when it expires (seconds since the epoch)."""
        expires_at = time.time() + ttl_seconds
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": audience,
            "sub": str(subject),
            "purpose": purpose,
            "case": str(case_id),
            "files": sorted(str(file_id) for file_id in file_ids),
            "exp": int(expires_at),
            "iat": int(time.time()),
        }
        token = jwt.encode(claims, self._key, algorithm="EdDSA", headers={"kid": self._kid})
        return token, float(claims["exp"])


class GrantVerifier:
    """Checks grants against the issuer's public keys, read from PEM files (the current key and
    any retired ones), re-read when a file changes so a rotation needs no restart."""

    def __init__(self, key_paths: Sequence[Path], *, issuer: str, audience: str) -> None:
        self._paths = list(key_paths)
        self._issuer = issuer
        self._audience = audience
        self._loaded: dict[Path, tuple[float, Ed25519PublicKey]] = {}

    def _keys(self) -> list[Ed25519PublicKey]:
        keys = []
        for path in self._paths:
            try:
                mtime = path.stat().st_mtime
            except OSError:
                continue  # the issuer has not created its key yet: nothing verifies until it has
            cached = self._loaded.get(path)
            if cached is None or cached[0] != mtime:
                cached = (mtime, load_public_key(path))
                self._loaded[path] = cached
            keys.append(cached[1])
        return keys

    def verify(self, token: str, *, subject: uuid.UUID, purpose: str) -> Grant:
        """The grant if it is genuine, current, for this caller and this purpose; else 403."""
        for key in self._keys():
            try:
                claims = jwt.decode(
                    token,
                    key,
                    algorithms=["EdDSA"],
                    audience=self._audience,
                    issuer=self._issuer,
                    leeway=LEEWAY_SECONDS,
                    options={"require": ["exp", "iss", "aud", "sub"]},
                )
            except jwt.InvalidSignatureError:
                continue
            except jwt.PyJWTError as error:
                raise Forbidden(f"The {self._issuer} grant is not valid: {error}.") from error
            return self._checked(claims, subject, purpose)
        raise Forbidden(f"The grant was not signed by the {self._issuer} service.")

    def _checked(self, claims: dict[str, Any], subject: uuid.UUID, purpose: str) -> Grant:
        try:
            grant = Grant(
                issuer=claims["iss"],
                audience=self._audience,
                subject=uuid.UUID(claims["sub"]),
                purpose=claims["purpose"],
                case_id=uuid.UUID(claims["case"]),
                file_ids=frozenset(uuid.UUID(item) for item in claims.get("files", [])),
                expires_at=float(claims["exp"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise Forbidden(f"The {self._issuer} grant is malformed.") from error
        if grant.subject != subject:
            raise Forbidden("The grant was issued to someone else.")
        if grant.purpose != purpose:
            raise Forbidden(f"The grant is for {grant.purpose}, not {purpose}.")
        return grant
