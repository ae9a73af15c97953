"""Webhook signatures: the `Telemed-Signature` header, and how to check one.

The header is `Telemed-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`. The HMAC key is
the subscription secret's UTF-8 bytes and the message is `f"{t}."` followed by the raw body,
so a receiver must verify the bytes it received before parsing them. During a secret
rotation's grace period the header carries one `v1=` per valid secret.
"""

import hashlib
import hmac
import secrets
import time
from collections.abc import Sequence

from services.common.keys import same_secret

SIGNATURE_HEADER = "Telemed-Signature"
EVENT_ID_HEADER = "Telemed-Event-Id"
EVENT_TYPE_HEADER = "Telemed-Event-Type"
DELIVERY_ID_HEADER = "Telemed-Delivery-Id"
SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE = 300.0


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(signing_secrets: Sequence[str], body: bytes, timestamp: int) -> str:
    """The header value: one `v1=` per secret, the current secret first."""
    signatures = ",".join(f"v1={_digest(secret, timestamp, body)}" for secret in signing_secrets)
    return f"t={timestamp},{signatures}"


def verify_signature(
    secret: str,
    header: str,
    body: bytes,
    tolerance: float = DEFAULT_TOLERANCE,
    *,
    now: float | None = None,
) -> bool:
    """True if one of the header's `v1=` signatures is `secret`'s over `body` and its `t=` is
    within `tolerance` seconds of now (an old header replayed later is refused)."""
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isascii() and value.isdigit():  # "²".isdigit(), yet no int
            timestamp = int(value)
        elif name == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = _digest(secret, timestamp, body)
    # Every candidate is compared, in constant time, so timing says nothing about which matched;
    # a candidate holding anything but ASCII is simply not equal (never an exception).
    matches = [same_secret(expected, candidate) for candidate in candidates]
    return any(matches)
