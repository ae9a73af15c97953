"""Rendezvous (highest random weight) hashing: which of several instances owns a key. The
gateway sends a video room's or ward's calls to the owner; a video instance asks it too, to
know which wards' cameras and alarms are its own."""

import hashlib
from collections.abc import Iterable


def weight(url: str, key: str) -> int:
    """The instance's weight for `key`: a stable hash, so that every gateway replica, every
    video instance and every restart picks the same instance for the same key."""
    digest = hashlib.blake2b(f"{url}\n{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def owner(urls: Iterable[str], key: str) -> str:
    """When an instance goes, only the keys it owned move."""
    return max(urls, key=lambda url: weight(url, key))
