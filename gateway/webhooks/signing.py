"""Webhook signatures: Standard Webhooks headers, the old `Telemed-Signature`, and checking both.

Standard Webhooks (https://www.standardwebhooks.com): `webhook-id` (the event's id, the same
on every retry and replay), `webhook-timestamp` (unix seconds of the attempt) and
`webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, one per valid secret
during a rotation's grace period, space-separated. The HMAC key is the secret's base64 after
`whsec_` decoded (`signing_key`), so the `standardwebhooks` and svix libraries verify with the
secret as it is shown.

Secrets issued before Standard Webhooks signing are `whsec_` and 43 URL-safe characters, never
valid padded base64: their key is the whole secret's UTF-8 bytes, the key the old header has
always used, so nothing stored has to change (a receiver passes `secret.encode()` to the
library, or rotates the secret to get one of the new form).

The old header, `Telemed-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "{t}.{body}">`
keyed with the secret's whole UTF-8 bytes, is sent during its transition period
(`webhook_legacy_signature`, docs/webhooks.md).
"""

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping, Sequence

from services.common.keys import same_secret

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
LEGACY_SIGNATURE_HEADER = "Telemed-Signature"
EVENT_ID_HEADER = "Telemed-Event-Id"
EVENT_TYPE_HEADER = "Telemed-Event-Type"
DELIVERY_ID_HEADER = "Telemed-Delivery-Id"
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
# The specification's bounds for a key; anything else decoded is not one of our new secrets.
KEY_BYTES = range(24, 65)
DEFAULT_TOLERANCE = 300.0


def new_secret() -> str:
    """`whsec_` and the standard base64 of 32 random bytes, as the specification shows them."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signing_key(secret: str) -> bytes:
    """The HMAC key of the Standard Webhooks signature: the bytes the base64 after `whsec_`
    stands for, or, for a secret that is not such (the earlier form), its whole UTF-8 bytes."""
    if secret.startswith(SECRET_PREFIX):
        try:
            # Strict: padding required, no other characters, so an earlier secret never passes.
            key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if len(key) in KEY_BYTES:
            return key
    return secret.encode()


def _signature(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    message = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def webhook_signature(
    signing_secrets: Sequence[str], message_id: str, timestamp: int, body: bytes
) -> str:
    """The `webhook-signature` value: one `v1,` per secret, the current secret first."""
    return " ".join(
        _signature(signing_key(secret), message_id, timestamp, body) for secret in signing_secrets
    )


def verify_webhook(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    tolerance: float = DEFAULT_TOLERANCE,
    *,
    now: float | None = None,
) -> bool:
    """True if `headers` (any case) carry a `v1` signature by `secret` of `body` under their
    `webhook-id`, with a `webhook-timestamp` within `tolerance` seconds of now."""
    lowered = {name.lower(): value for name, value in headers.items()}
    message_id = lowered.get(ID_HEADER, "")
    stamp = lowered.get(TIMESTAMP_HEADER, "")
    if not message_id or not (stamp.isascii() and stamp.isdigit()):  # "²".isdigit(), yet no int
        return False
    timestamp = int(stamp)
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = _signature(signing_key(secret), message_id, timestamp, body)
    # Every candidate is compared in constant time, so timing tells nothing of which matched.
    matches = [
        same_secret(expected, candidate)
        for candidate in lowered.get(SIGNATURE_HEADER, "").split(" ")
    ]
    return any(matches)


def _legacy_digest(secret: str, timestamp: int, body: bytes) -> str:
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(signing_secrets: Sequence[str], body: bytes, timestamp: int) -> str:
    """The old `Telemed-Signature` value: one `v1=` per secret, the current secret first."""
    signatures = ",".join(
        f"v1={_legacy_digest(secret, timestamp, body)}" for secret in signing_secrets
    )
    return f"t={timestamp},{signatures}"


def verify_signature(
    secret: str,
    header: str,
    body: bytes,
    tolerance: float = DEFAULT_TOLERANCE,
    *,
    now: float | None = None,
) -> bool:
    """True if one of the old header's `v1=` signatures is `secret`'s over `body` and its `t=`
    is within `tolerance` seconds of now (an old header replayed later is refused)."""
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isascii() and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = _legacy_digest(secret, timestamp, body)
    # A candidate holding anything but ASCII is simply not equal (never an exception).
    matches = [same_secret(expected, candidate) for candidate in candidates]
    return any(matches)


def delivery_headers(
    signing_secrets: Sequence[str],
    message_id: str,
    body: bytes,
    timestamp: int,
    *,
    legacy: bool,
) -> dict[str, str]:
    """The signature headers of one attempt; the old one too while `legacy` holds."""
    headers = {
        ID_HEADER: message_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: webhook_signature(signing_secrets, message_id, timestamp, body),
    }
    if legacy:
        headers[LEGACY_SIGNATURE_HEADER] = signature_header(signing_secrets, body, timestamp)
    return headers
