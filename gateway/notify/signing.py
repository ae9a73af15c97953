"""Unsubscribe links: a token naming a person and a category, signed with the gateway's key, so
the link works without signing in and cannot be made for anyone else."""

import base64
import binascii
import hashlib
import hmac
import uuid
from pathlib import Path

from gateway.notify.enums import OPTIONAL_CATEGORIES, Category
from services.common.keys import load_or_create_secret, same_secret

UNSUBSCRIBE_PATH = "/notify/unsubscribe"
_PURPOSE = b"telemed-notify-unsubscribe:"
_MAC_BYTES = 16


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class UnsubscribeSigner:
    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def from_file(cls, path: Path) -> "UnsubscribeSigner":
        return cls(load_or_create_secret(path))

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, _PURPOSE + payload, hashlib.sha256).digest()[:_MAC_BYTES]

    def token(self, user_id: uuid.UUID, category: Category) -> str:
        payload = user_id.bytes + category.value.encode()
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def url(self, public_url: str, user_id: uuid.UUID, category: Category) -> str:
        return f"{public_url.rstrip('/')}{UNSUBSCRIBE_PATH}?token={self.token(user_id, category)}"

    def verify(self, token: str) -> tuple[uuid.UUID, Category] | None:
        """The person and category a token of ours names; None for anything else."""
        encoded, _, mac = token.partition(".")
        try:
            payload = _unb64(encoded)
            if not same_secret(_b64(self._mac(payload)), mac):
                return None
            category = Category(payload[16:].decode())
        except (binascii.Error, ValueError):
            return None
        if category not in OPTIONAL_CATEGORIES:
            return None
        return uuid.UUID(bytes=payload[:16]), category
