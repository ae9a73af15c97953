"""Grants: a service lower down believes one only if the issuer's current or retired key signed
it, it is current, and it names this audience, this caller and this purpose."""

import os
import time
import uuid
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.common.errors import Forbidden
from services.common.grants import LEEWAY_SECONDS, GrantIssuer, GrantVerifier
from services.common.keys import load_or_create_private_key, publish_public_key

CALLER, CASE, FILE = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def write_public_key(key: Ed25519PrivateKey, path: Path) -> Path:
    path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return path


@pytest.fixture
def key_path(tmp_path: Path) -> Path:
    path = tmp_path / "consult" / "grant_signing_key.pem"
    load_or_create_private_key(path)
    return path


def issuer_of(path: Path) -> GrantIssuer:
    return GrantIssuer(load_or_create_private_key(path), issuer="consult")


def verifier_of(*paths: Path, audience: str = "files") -> GrantVerifier:
    return GrantVerifier(list(paths), issuer="consult", audience=audience)


def issue(issuer: GrantIssuer, **overrides: object) -> str:
    fields: dict[str, object] = {
        "audience": "files",
        "subject": CALLER,
        "purpose": "case.read",
        "case_id": CASE,
        "file_ids": [FILE],
    } | overrides
    token, _ = issuer.issue(**fields)  # type: ignore[arg-type]
    return token


def refusal(verifier: GrantVerifier, token: str, **expected: object) -> str:
    fields: dict[str, object] = {"subject": CALLER, "purpose": "case.read"} | expected
    with pytest.raises(Forbidden) as refused:
        verifier.verify(token, **fields)  # type: ignore[arg-type]
    return refused.value.detail


def test_a_genuine_grant_says_whom_what_and_until_when(key_path: Path) -> None:
    before = time.time()
    token, expires = issuer_of(key_path).issue(
        audience="files",
        subject=CALLER,
        purpose="case.read",
        case_id=CASE,
        file_ids=[FILE],
        ttl_seconds=120,
    )
    grant = verifier_of(key_path).verify(token, subject=CALLER, purpose="case.read")
    assert (grant.subject, grant.case_id, grant.file_ids) == (CALLER, CASE, frozenset({FILE}))
    assert grant.covers(FILE)
    assert not grant.covers(uuid.uuid4())
    assert before + 119 <= grant.expires_at == expires <= time.time() + 121


def test_a_grant_signed_with_another_key_is_refused(key_path: Path) -> None:
    forger = GrantIssuer(Ed25519PrivateKey.generate(), issuer="consult")
    assert "not signed by the consult" in refusal(verifier_of(key_path), issue(forger))
    genuine = issue(issuer_of(key_path))
    claims = jwt.decode(genuine, options={"verify_signature": False})
    other_case = jwt.encode(claims | {"case": str(uuid.uuid4())}, "x" * 32, algorithm="HS256")
    signature = genuine.rsplit(".", 1)[1]
    header = genuine.split(".", 1)[0]
    tampered = f"{header}.{other_case.split('.')[1]}.{signature}"
    refusal(verifier_of(key_path), tampered)
    refusal(verifier_of(key_path), "not a grant at all")


def test_an_expired_grant_is_refused_after_the_leeway(key_path: Path) -> None:
    issuer = issuer_of(key_path)
    stale = issue(issuer, ttl_seconds=-(LEEWAY_SECONDS + 5))
    assert "expired" in refusal(verifier_of(key_path), stale)
    within_leeway = issue(issuer, ttl_seconds=-5)  # clocks of two hosts differ a little
    verifier_of(key_path).verify(within_leeway, subject=CALLER, purpose="case.read")


def test_audience_purpose_and_subject_must_match(key_path: Path) -> None:
    issuer = issuer_of(key_path)
    for_scheduling = issue(issuer, audience="scheduling")
    refusal(verifier_of(key_path), for_scheduling)
    verifier_of(key_path, audience="scheduling").verify(
        for_scheduling, subject=CALLER, purpose="case.read"
    )
    pin = issue(issuer, purpose="case.pin")
    assert "case.pin, not case.read" in refusal(verifier_of(key_path), pin)
    someone_else = uuid.uuid4()
    assert "someone else" in refusal(verifier_of(key_path), issue(issuer), subject=someone_else)
    other_issuer = GrantIssuer(load_or_create_private_key(key_path), issuer="scheduling")
    refusal(verifier_of(key_path), issue(other_issuer))


def test_a_rotated_key_file_is_read_again_and_retired_keys_still_verify(
    key_path: Path, tmp_path: Path
) -> None:
    old = issuer_of(key_path)
    old_grant = issue(old)
    current = tmp_path / "current.pem"
    write_public_key(load_or_create_private_key(key_path), current)
    verifier = verifier_of(current)
    verifier.verify(old_grant, subject=CALLER, purpose="case.read")

    # The issuer rotates: the file now holds the new public key (a later mtime marks it).
    new_key = Ed25519PrivateKey.generate()
    write_public_key(new_key, current)
    later = current.stat().st_mtime + 10
    os.utime(current, (later, later))
    new_grant = issue(GrantIssuer(new_key, issuer="consult"))
    verifier.verify(new_grant, subject=CALLER, purpose="case.read")
    refusal(verifier, old_grant)  # the old key is gone from this file...

    retired = write_public_key(load_or_create_private_key(key_path), tmp_path / "retired.pem")
    both = verifier_of(current, retired)  # ...and verifies again once listed as retired
    both.verify(old_grant, subject=CALLER, purpose="case.read")
    both.verify(new_grant, subject=CALLER, purpose="case.read")


def test_nothing_verifies_until_the_issuers_key_exists(tmp_path: Path) -> None:
    path = tmp_path / "consult" / "grant_signing_key.pem"
    verifier = verifier_of(path)
    token = issue(issuer_of(path))  # creates the key file
    os.remove(path)
    assert "not signed by the consult" in refusal(verifier, token)


def test_the_issuer_publishes_its_public_key_for_verifiers(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    path = tmp_path / "consult-grant" / "grant_signing_key.pub.pem"
    publish_public_key(key.public_key(), path)
    assert b"PRIVATE" not in path.read_bytes()
    written = path.stat().st_mtime_ns
    publish_public_key(key.public_key(), path)  # a restart with the same key
    assert path.stat().st_mtime_ns == written  # verifiers have nothing to re-read
    token = issue(GrantIssuer(key, issuer="consult"))
    verifier_of(path).verify(token, subject=CALLER, purpose="case.read")
