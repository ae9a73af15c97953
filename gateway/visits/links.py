"""The patient's personal visit link, `<public_url>/visit/<token>`: the token names an appointment
and its patient under the gateway's HMAC.

Nothing is stored and nothing in it expires, so the same link can be sent again (a reminder, a
resend) and one sent before a reschedule still leads to the visit (the page follows the move).
What it admits is decided when it is opened: scheduling says whether the visit can be joined
then, and the join token it hands out lives minutes. The token holds no name, only two ids.
"""

import base64
import binascii
import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass

from gateway.settings import GatewaySettings
from services.common.keys import load_or_create_secret, same_secret

# 128 bits of MAC: forging one is out of reach, and the link stays short enough for an SMS.
MAC_BYTES = 16
TOKEN_BYTES = 16 + 16 + MAC_BYTES
DOMAIN = b"telemed:visit-link:v1\x00"  # so the key signs nothing else by accident
# Unpadded base64url of exactly TOKEN_BYTES: one spelling per token (the decoder would take
# `+` for `-` and skip stray characters).
TOKEN_LENGTH = (TOKEN_BYTES * 4 + 2) // 3
TOKEN_SHAPE = re.compile(f"[A-Za-z0-9_-]{{{TOKEN_LENGTH}}}")


@dataclass(frozen=True)
class VisitLink:
    appointment_id: uuid.UUID
    patient_id: uuid.UUID


class VisitLinks:
    """Makes and reads the links under one key."""

    def __init__(self, key: bytes, public_url: str) -> None:
        self._key = key
        self.base = public_url.rstrip("/") + "/visit/"

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> "VisitLinks":
        """With the key file (created on first use, readable by its owner only)."""
        key = load_or_create_secret(settings.resolved_visit_link_key_path())
        return cls(key, settings.public_url)

    def _mac(self, ids: bytes) -> bytes:
        return hmac.new(self._key, DOMAIN + ids, hashlib.sha256).digest()[:MAC_BYTES]

    def token(self, appointment_id: uuid.UUID, patient_id: uuid.UUID) -> str:
        ids = appointment_id.bytes + patient_id.bytes
        return base64.urlsafe_b64encode(ids + self._mac(ids)).rstrip(b"=").decode()

    def url(self, appointment_id: uuid.UUID, patient_id: uuid.UUID) -> str:
        return self.base + self.token(appointment_id, patient_id)

    def read(self, token: str) -> VisitLink | None:
        """The ids a genuine token names; None for anything else (altered, cut, made up)."""
        if not TOKEN_SHAPE.fullmatch(token):
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            return None
        ids, mac = raw[:32], raw[32:]
        if not same_secret(self._mac(ids), mac):
            return None
        return VisitLink(uuid.UUID(bytes=ids[:16]), uuid.UUID(bytes=ids[16:]))
