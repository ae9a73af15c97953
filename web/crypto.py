"""Encryption of the tokens kept in the session store.

Fernet (AES-128-CBC with an HMAC-SHA256 over it, from `cryptography`, which telemed already
uses): authenticated, so a token altered in the database fails to decrypt instead of turning
into another one, and versioned. The key
lives in a file apart from the database (like the audit key), so a copy of the database alone,
a backup or a dump, holds no token anyone can use: the refresh tokens in it live for days.
"""

from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from services.common.owner_only import write_private_file


def load_or_create_key(path: Path) -> bytes:
    """The key at `path`; on first start a new one, readable only by its owner. Every replica
    must read the same file (deploy/k8s mounts it from the console's Secret)."""
    if path.exists():
        return path.read_bytes().strip()
    key = Fernet.generate_key()
    try:
        write_private_file(path, key)
    except FileExistsError:  # another process made it meanwhile
        return path.read_bytes().strip()
    return key


class TokenBox:
    """Seals and opens the tokens of the session store. A new key makes every stored session
    unreadable, which signs everyone out: that is how the key is rotated."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def seal(self, token: str) -> str:
        return self._fernet.encrypt(token.encode()).decode("ascii")

    def open(self, sealed: str) -> str | None:
        """The token, or None when it cannot be read (altered, or sealed under another key):
        the session then simply ends."""
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode()
        except (InvalidToken, UnicodeError):
            return None
