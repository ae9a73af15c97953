"""Bedside device credentials: a long-lived secret per bed, kept by the tablet and only as a
hash here, so a stolen database opens no camera. Issuing a new one revokes the old."""

import hashlib
import hmac
import secrets

PREFIX = "tmbed_"


def new_credential() -> tuple[str, str]:
    """The credential to hand over once, and the hash to keep."""
    credential = PREFIX + secrets.token_urlsafe(32)
    return credential, digest(credential)


def digest(credential: str) -> str:
    return hashlib.sha256(credential.encode()).hexdigest()


def matches(credential: str, stored: str | None) -> bool:
    return stored is not None and hmac.compare_digest(digest(credential), stored)
