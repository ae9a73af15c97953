"""Ed25519 signing keys kept as PEM files, their public JWKs with RFC 7638 thumbprints, random
secrets kept in owner-only files, and the one way to compare a secret with a caller's input."""

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from services.common.owner_only import write_private_file


def load_or_create_key(path: Path, generate: Callable[[], PrivateKeyTypes]) -> PrivateKeyTypes:
    """Loads the private key at `path`; on first start `generate`s one and keeps it in a PEM
    file readable only by its owner. The caller checks it is of the kind it expects."""
    if path.exists():
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    key = generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    write_private_file(path, pem)
    return key


def load_or_create_private_key(path: Path) -> Ed25519PrivateKey:
    """Loads the key at `path`; on first start creates one readable only by its owner."""
    key = load_or_create_key(path, Ed25519PrivateKey.generate)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file holding either the public or the private key."""
    data = path.read_bytes()
    key: object
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        key = serialization.load_pem_private_key(data, password=None)
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} holds no Ed25519 key")
    return key


def publish_public_key(key: Ed25519PublicKey, path: Path) -> None:
    """Writes the public key as PEM for the services that verify with it (they re-read a file
    that changed); replaced in one step, and left alone when it already holds this key."""
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if path.exists() and path.read_bytes() == pem:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(path.name + ".new")
    staged.write_bytes(pem)
    os.replace(staged, path)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_jwk(public_key: Ed25519PublicKey) -> dict[str, Any]:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    members = {"crv": "Ed25519", "kty": "OKP", "x": _b64url(raw)}
    thumbprint = hashlib.sha256(json.dumps(members, separators=(",", ":")).encode()).digest()
    return {**members, "kid": _b64url(thumbprint), "alg": "EdDSA", "use": "sig"}


def load_or_create_secret(path: Path, size: int = 32) -> bytes:
    """A random secret kept in a file readable only by its owner, created on first start."""
    if path.exists():
        return path.read_bytes()
    secret = os.urandom(size)
    write_private_file(path, secret)
    return secret


def same_secret(expected: str | bytes, given: str | bytes) -> bool:
    """Compares a secret with what a caller sent, in constant time. `hmac.compare_digest`
    raises on a str holding anything but ASCII (a token in a URL can hold anything); here
    both sides are compared as UTF-8 bytes, so such input is simply not equal. Use this
    wherever a value from outside is checked against a secret or a MAC."""
    if isinstance(expected, str):
        expected = expected.encode("utf-8", "surrogatepass")
    if isinstance(given, str):
        given = given.encode("utf-8", "surrogatepass")
    return hmac.compare_digest(expected, given)
