"""Conclusion signatures: the signed forms of a document, Ed25519 signing with the service key,
and checks of every form ever issued.

Form 2 (docs/api.md, "Checking a conclusion's signature", is its specification for outside
verifiers) is a JWS (RFC 7515) with the EdDSA algorithm (RFC 8037) whose payload is the RFC 8785
canonicalisation of the document, with times written as the API writes them. Its compact
serialisation is kept detached (RFC 7515 appendix F): the payload is what the API serves, and
putting it back between the dots gives an ordinary JWS any JOSE library verifies. Form 1 is the
sorted-keys JSON signed bare before form 2: conclusions signed before it verify in it, and a
consilium's opinions and protocols are still signed in it (their content names their kind, which
is how a verifier tells them from a conclusion).
"""

import base64
import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from services.common.keys import public_jwk
from services.consult.cases.enums import SignatureForm

# The JWS `typ` (RFC 7515 4.1.9, explicit typing as RFC 8725 3.11 advises): a signature over
# another kind of document cannot pass for a conclusion's.
JWS_TYPE = "telemed-conclusion+json"
DOCUMENT = "conclusion"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def api_time(value: datetime) -> str:
    """A time as the API writes it: UTC with `Z`, microseconds only when there are some."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class SignedDocument:
    """What a conclusion's signature covers; each form turns it into the bytes that get signed."""

    case_id: uuid.UUID
    version: int
    author_id: uuid.UUID
    issued_at: datetime
    content: dict[str, Any]
    amends_version: int | None = None
    amendment_reason: str | None = None

    def canonical(self) -> bytes:
        """Form 1: sorted keys, no spaces, UTF-8, `+00:00` times."""
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

    def jcs(self) -> bytes:
        """Form 2: the RFC 8785 canonicalisation, every value as the API returns it."""
        return rfc8785.dumps(
            {
                "document": DOCUMENT,
                "case_id": str(self.case_id),
                "version": self.version,
                "author_id": str(self.author_id),
                "issued_at": api_time(self.issued_at),
                "content": self.content,
                "amends_version": self.amends_version,
                "amendment_reason": self.amendment_reason,
            }
        )

    def signed_bytes(self, form: SignatureForm) -> bytes:
        return self.jcs() if form is SignatureForm.JWS_JCS else self.canonical()

    def sha256(self, form: SignatureForm) -> str:
        return hashlib.sha256(self.signed_bytes(form)).hexdigest()


@dataclass(frozen=True)
class Signature:
    """The stored signature: for form 2 the JWS signature part, for form 1 the bare one."""

    value: str
    key_id: str
    sha256: str
    form: SignatureForm


def protected_header(key_id: str) -> str:
    """Form 2's JWS protected header, encoded: the same bytes for every conclusion of a key."""
    header = {"alg": "EdDSA", "kid": key_id, "typ": JWS_TYPE}
    return b64url(rfc8785.dumps(header))


def signing_input(payload: bytes, key_id: str, form: SignatureForm) -> bytes:
    """The bytes Ed25519 signs: form 2's JWS signing input, or form 1's document itself."""
    if form is SignatureForm.JWS_JCS:
        return f"{protected_header(key_id)}.{b64url(payload)}".encode("ascii")
    return payload


def detached_jws(signature: Signature) -> str | None:
    """Form 2's compact serialisation with the payload left out (RFC 7515 appendix F)."""
    if signature.form is not SignatureForm.JWS_JCS:
        return None
    return f"{protected_header(signature.key_id)}..{signature.value}"


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

    def sign(self, document: SignedDocument, form: SignatureForm) -> Signature:
        payload = document.signed_bytes(form)
        raw = self._private_key.sign(signing_input(payload, self.key_id, form))
        return Signature(
            value=b64url(raw),
            key_id=self.key_id,
            sha256=hashlib.sha256(payload).hexdigest(),
            form=form,
        )

    def verify(self, document: SignedDocument, signature: Signature) -> bool:
        """False for a changed document, a changed signature or digest, or an unknown key."""
        public_key = self._public_keys.get(signature.key_id)
        payload = document.signed_bytes(signature.form)
        if public_key is None or hashlib.sha256(payload).hexdigest() != signature.sha256:
            return False
        try:
            raw = b64url_decode(signature.value)
            public_key.verify(raw, signing_input(payload, signature.key_id, signature.form))
        except (InvalidSignature, ValueError):
            return False
        return True
