"""Conclusion signatures: the canonical document, Ed25519 signing with the service key, checks."""

import base64
import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from services.common.keys import public_jwk


@dataclass(frozen=True)
class SignedDocument:
    """What a conclusion's signature covers; its canonical form is what gets signed."""

    case_id: uuid.UUID
    version: int
    author_id: uuid.UUID
    issued_at: datetime
    content: dict[str, Any]
    amends_version: int | None = None
    amendment_reason: str | None = None

    def canonical(self) -> bytes:
        """Sorted keys, no spaces, UTF-8: one byte string per document, whoever re-creates it."""
        document = {
            "case_id": str(self.case_id),
            "version": self.version,
            "author_id": str(self.author_id),
            "issued_at": self.issued_at.astimezone(UTC).isoformat(),
            "content": self.content,
            "amends_version": self.amends_version,
            "amendment_reason": self.amendment_reason,
        }
        return json.dumps(
            document, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()

    def sha256(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()


@dataclass(frozen=True)
class Signature:
    value: str
    key_id: str
    sha256: str


def _b64decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


class ConclusionSigner:
    """Signs with the service's current key; verifies with it and with retired keys.

    A conclusion is part of the medical record, so its signature must keep verifying after the
    service's key is rotated: the retired public keys stay trusted, and are never signed with.
    """

    def __init__(
        self, private_key: Ed25519PrivateKey, retired: Sequence[Ed25519PublicKey] = ()
    ) -> None:
        self._private_key = private_key
        self.jwk = public_jwk(private_key.public_key())
        self.key_id: str = self.jwk["kid"]
        self._public_keys = {self.key_id: private_key.public_key()}
        self.jwks = [self.jwk]
        for public_key in retired:
            jwk = public_jwk(public_key)
            if jwk["kid"] not in self._public_keys:
                self._public_keys[jwk["kid"]] = public_key
                self.jwks.append(jwk)

    def sign(self, document: SignedDocument) -> Signature:
        raw = self._private_key.sign(document.canonical())
        value = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        return Signature(value=value, key_id=self.key_id, sha256=document.sha256())

    def verify(self, document: SignedDocument, signature: Signature) -> bool:
        """False for a changed document, a changed signature or digest, or an unknown key."""
        public_key = self._public_keys.get(signature.key_id)
        if public_key is None or document.sha256() != signature.sha256:
            return False
        try:
            public_key.verify(_b64decode(signature.value), document.canonical())
        except (InvalidSignature, ValueError):
            return False
        return True
