"""Checks a telemed conclusion's signature with the published key alone, as docs/api.md
("Checking a conclusion's signature") specifies it; no telemed code, only Python's standard
library and the `cryptography` package.

    python verify_conclusion.py SIGNED --keys KEYS [--conclusion CONCLUSION]

SIGNED is the answer of `GET /api/consult/cases/{id}/conclusions/{version}/signed` saved to a
file (`-` reads it from standard input). KEYS is the JWK Set of
`GET /api/consult/conclusion-keys`, as its URL or a file (a file may hold a single JWK).
CONCLUSION, optionally, is the answer of `GET /api/consult/cases/{id}/conclusions/{version}`:
the signed document must then say what it says. Prints `valid: ...` and exits 0, or
`invalid: <reason>` and exits 1; input it cannot read exits 2.
"""

import argparse
import base64
import binascii
import hashlib
import json
import sys
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

JWS_TYPE = "telemed-conclusion+json"
# The fields a conclusion's signed document holds besides `document`, compared with the API's.
FIELDS = (
    "case_id",
    "version",
    "author_id",
    "issued_at",
    "content",
    "amends_version",
    "amendment_reason",
)


class Invalid(Exception):
    """The signature, or what it covers, does not hold; the message says why."""


def b64url_decode(value: str) -> bytes:
    """Strict base64url without padding: one encoding per byte string, nothing else accepted."""
    try:
        data = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as error:
        raise Invalid(f"not base64url: {value[:20]}...") from error
    if base64.urlsafe_b64encode(data).rstrip(b"=").decode() != value:
        raise Invalid(f"not canonical base64url without padding: {value[:20]}...")
    return data


def load_json(source: str) -> Any:
    """JSON from a URL, a file, or `-` for standard input."""
    if source.startswith(("https://", "http://")):
        with urllib.request.urlopen(source, timeout=30) as response:  # noqa: S310 (http(s) only)
            return json.load(response)
    if source == "-":
        return json.load(sys.stdin)
    return json.loads(Path(source).read_text(encoding="utf-8"))


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638: SHA-256 of the required members, in lexicographic order, without spaces."""
    members = json.dumps(
        {"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"]}, separators=(",", ":")
    )
    return base64.urlsafe_b64encode(hashlib.sha256(members.encode()).digest()).rstrip(b"=").decode()


def public_key(keys: Any, kid: str) -> Ed25519PublicKey:
    """The Ed25519 key named `kid`, whose thumbprint must be that `kid`."""
    candidates = keys.get("keys", [keys]) if isinstance(keys, dict) else []
    for jwk in candidates:
        if isinstance(jwk, dict) and jwk.get("kid") == kid:
            x = jwk.get("x")
            if (jwk.get("kty"), jwk.get("crv")) != ("OKP", "Ed25519") or not isinstance(x, str):
                raise Invalid(f"key {kid} is not an Ed25519 key")
            if thumbprint(jwk) != kid:
                raise Invalid(f"key {kid} is not the key its id names (RFC 7638 thumbprint)")
            raw = b64url_decode(x)
            if len(raw) != 32:
                raise Invalid(f"key {kid} is not 32 bytes long")
            return Ed25519PublicKey.from_public_bytes(raw)
    raise Invalid(f"no published key has the id {kid}")


def form_2(signed: dict[str, Any], keys: Any) -> tuple[bytes, str]:
    """A JWS with detached payload: the header checked, then EdDSA over `header.payload`."""
    parts = str(signed.get("jws") or "").split(".")
    if len(parts) != 3 or parts[1] != "":
        raise Invalid("jws is not a compact JWS with a detached payload (header..signature)")
    header_part, _, signature_part = parts
    try:
        header = json.loads(b64url_decode(header_part))
    except (ValueError, UnicodeDecodeError) as error:
        raise Invalid("the JWS header is not JSON") from error
    if not isinstance(header, dict):
        raise Invalid("the JWS header is not a JSON object")
    if set(header) != {"alg", "kid", "typ"}:
        raise Invalid(f"unexpected JWS header members: {sorted(header)}")
    if header["alg"] != "EdDSA" or header["typ"] != JWS_TYPE:
        raise Invalid(f"not a conclusion's EdDSA JWS: alg {header['alg']}, typ {header['typ']}")
    if header["kid"] != signed.get("key_id"):
        raise Invalid("key_id differs from the kid the JWS header names")
    payload_part = str(signed.get("payload", ""))
    payload = b64url_decode(payload_part)
    key = public_key(keys, header["kid"])
    try:
        key.verify(b64url_decode(signature_part), f"{header_part}.{payload_part}".encode())
    except InvalidSignature as error:
        raise Invalid("the signature does not match the payload and key") from error
    return payload, header["kid"]


def form_1(signed: dict[str, Any], keys: Any) -> tuple[bytes, str]:
    """Before the JWS form: Ed25519 over the payload's bytes themselves."""
    payload = b64url_decode(str(signed.get("payload", "")))
    kid = str(signed.get("key_id", ""))
    try:
        public_key(keys, kid).verify(b64url_decode(str(signed.get("signature", ""))), payload)
    except InvalidSignature as error:
        raise Invalid("the signature does not match the payload and key") from error
    return payload, kid


def same_value(name: str, signed: Any, shown: Any) -> bool:
    if name == "issued_at" and isinstance(signed, str) and isinstance(shown, str):
        # Form 1 wrote `+00:00` where the API writes `Z`: the same instant either way.
        return datetime.fromisoformat(signed) == datetime.fromisoformat(shown)
    return bool(signed == shown)


def names_a_conclusion(document: dict[str, Any], form: int) -> bool:
    """Form 2 says its kind. Form 1 does not, and the same key signs a consilium's opinions and
    protocols in form 1 with a case and version 1 too: theirs name their kind in the content."""
    if form == 2:
        return document.get("document") == "conclusion"
    content = document.get("content")
    return isinstance(content, dict) and "document" not in content


def check(signed: Any, keys: Any, conclusion: Any = None) -> str:
    """What was verified, or `Invalid` saying why not."""
    if not isinstance(signed, dict):
        raise Invalid("the signed answer is not a JSON object")
    form = signed.get("signature_form")
    if form not in (1, 2):
        raise Invalid(f"unknown signature_form {form!r}")
    payload, kid = (form_2 if form == 2 else form_1)(signed, keys)
    if signed.get("payload_sha256") != hashlib.sha256(payload).hexdigest():
        raise Invalid("payload_sha256 is not the SHA-256 of the payload")
    try:
        document = json.loads(payload.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise Invalid("the payload is not UTF-8 JSON") from error
    if not isinstance(document, dict) or not names_a_conclusion(document, form):
        raise Invalid("the payload is not a conclusion")
    for name in ("case_id", "version"):
        if document.get(name) != signed.get(name):
            raise Invalid(f"the signed document's {name} is not the one asked for")
    if conclusion is not None:
        for name in FIELDS:
            if not same_value(name, document.get(name), conclusion.get(name)):
                raise Invalid(f"the conclusion's {name} is not what was signed")
    return (
        f"conclusion {document['version']} of case {document['case_id']}, issued "
        f"{document.get('issued_at')}, signed by key {kid} (form {form})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("signed", help="the /signed answer: a file, or - for standard input")
    parser.add_argument("--keys", required=True, help="the JWK Set: its URL, or a file")
    parser.add_argument("--conclusion", help="the conclusion as the API returned it (a file)")
    arguments = parser.parse_args(argv)
    try:
        signed = load_json(arguments.signed)
        keys = load_json(arguments.keys)
        conclusion = load_json(arguments.conclusion) if arguments.conclusion else None
    except (OSError, ValueError) as error:
        print(f"cannot read the input: {error}", file=sys.stderr)
        return 2
    try:
        print(f"valid: {check(signed, keys, conclusion)}")
    except Invalid as error:
        print(f"invalid: {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
