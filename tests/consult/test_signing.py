"""Conclusion signatures: both signed forms are stable, and any change fails verification."""

import dataclasses
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.common.keys import load_or_create_private_key
from services.consult.app import create_app
from services.consult.cases.enums import SignatureForm
from services.consult.cases.signing import (
    ConclusionSigner,
    Signature,
    SignedDocument,
    b64url_decode,
    detached_jws,
)
from services.consult.settings import ConsultSettings

CASE_ID = uuid.UUID("0b9c3f5e-4d5c-4b8e-9a57-6f1f1d6c2a10")
AUTHOR_ID = uuid.UUID("7d2f7a3e-1b4c-4e8a-8c2d-3a9b5e6f7a81")
CONTENT = {
    "findings": "Острый инфаркт",
    "diagnosis_text": "NSTEMI",
    "diagnosis_codes": ["I21.4"],
    "recommendations": "Transfer for PCI",
    "recommended_tests": ["troponin"],
    "in_person_visit_needed": False,
    "hospitalisation_needed": True,
}


def document(**changes: object) -> SignedDocument:
    base = SignedDocument(
        case_id=CASE_ID,
        version=1,
        author_id=AUTHOR_ID,
        issued_at=datetime(2025, 6, 2, 10, 30, tzinfo=UTC),
        content=CONTENT,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


LEGACY, JWS = SignatureForm.CANONICAL_JSON, SignatureForm.JWS_JCS


@pytest.fixture
def signer() -> ConclusionSigner:
    return ConclusionSigner(Ed25519PrivateKey.generate())


def test_canonical_form_is_sorted_compact_utf8() -> None:
    canonical = document().canonical()
    text = canonical.decode("utf-8")
    assert "Острый инфаркт" in text  # UTF-8 itself, not \u escapes
    assert ": " not in text
    assert ", " not in text
    parsed = json.loads(text)
    assert list(parsed) == sorted(parsed)
    assert list(parsed["content"]) == sorted(parsed["content"])
    assert parsed["case_id"] == str(CASE_ID)
    assert parsed["author_id"] == str(AUTHOR_ID)
    assert parsed["version"] == 1
    assert parsed["issued_at"] == "2025-06-02T10:30:00+00:00"


def test_canonical_form_does_not_depend_on_key_order_or_the_zone_of_issued_at() -> None:
    reordered = dict(reversed(list(CONTENT.items())))
    moscow = timezone(timedelta(hours=3))
    same_instant = datetime(2025, 6, 2, 13, 30, tzinfo=moscow)
    assert document(content=reordered, issued_at=same_instant).canonical() == (
        document().canonical()
    )


def test_form_2_is_rfc_8785_with_times_as_the_api_writes_them() -> None:
    text = document(issued_at=datetime(2025, 6, 2, 13, 30, tzinfo=timezone(timedelta(hours=3))))
    assert (
        text.jcs()
        == (
            '{"amendment_reason":null,"amends_version":null,'
            f'"author_id":"{AUTHOR_ID}","case_id":"{CASE_ID}",'
            '"content":{"diagnosis_codes":["I21.4"],"diagnosis_text":"NSTEMI",'
            '"findings":"Острый инфаркт","hospitalisation_needed":true,'
            '"in_person_visit_needed":false,"recommendations":"Transfer for PCI",'
            '"recommended_tests":["troponin"]},"document":"conclusion",'
            '"issued_at":"2025-06-02T10:30:00Z","version":1}'
        ).encode()
    )
    fraction = document(issued_at=datetime(2025, 6, 2, 10, 30, 0, 120000, tzinfo=UTC))
    assert json.loads(fraction.jcs())["issued_at"] == "2025-06-02T10:30:00.120000Z"


def test_form_2_is_a_jws_any_jose_library_verifies(signer: ConclusionSigner) -> None:
    signature = signer.sign(document(), JWS)
    compact = detached_jws(signature)
    assert compact is not None
    header, empty, value = compact.split(".")
    assert (empty, value) == ("", signature.value)
    assert json.loads(b64url_decode(header)) == {
        "alg": "EdDSA",
        "kid": signer.key_id,
        "typ": "telemed-conclusion+json",
    }
    attached = f"{header}.{jwt.utils.base64url_encode(document().jcs()).decode()}.{value}"
    decoded = jwt.api_jws.decode_complete(attached, key=jwt.PyJWK(signer.jwk), algorithms=["EdDSA"])
    assert decoded["payload"] == document().jcs()
    assert detached_jws(signer.sign(document(), LEGACY)) is None


@pytest.mark.parametrize("form", [LEGACY, JWS])
def test_a_signed_document_verifies(signer: ConclusionSigner, form: SignatureForm) -> None:
    signature = signer.sign(document(), form)
    assert signature.key_id == signer.jwk["kid"]
    assert signature.sha256 == document().sha256(form)
    assert signer.verify(document(), signature)


def test_a_signature_holds_only_in_its_own_form(signer: ConclusionSigner) -> None:
    for form, other in ((LEGACY, JWS), (JWS, LEGACY)):
        signature = signer.sign(document(), form)
        as_other = dataclasses.replace(signature, form=other)
        assert not signer.verify(document(), as_other)
        rehashed = dataclasses.replace(as_other, sha256=document().sha256(other))
        assert not signer.verify(document(), rehashed)


@pytest.mark.parametrize("form", [LEGACY, JWS])
@pytest.mark.parametrize(
    "tampered",
    [
        document(content={**CONTENT, "hospitalisation_needed": False}),
        document(content={**CONTENT, "diagnosis_codes": ["I21.9"]}),
        document(version=2),
        document(case_id=uuid.uuid4()),
        document(author_id=uuid.uuid4()),
        document(issued_at=datetime(2025, 6, 2, 10, 31, tzinfo=UTC)),
        document(amends_version=1, amendment_reason="typo"),
    ],
)
def test_any_change_to_the_document_fails_verification(
    signer: ConclusionSigner, tampered: SignedDocument, form: SignatureForm
) -> None:
    signature = signer.sign(document(), form)
    assert not signer.verify(tampered, signature)
    # Even with the digest recomputed to match, the signature itself no longer fits.
    rehashed = dataclasses.replace(signature, sha256=tampered.sha256(form))
    assert not signer.verify(tampered, rehashed)


@pytest.mark.parametrize("form", [LEGACY, JWS])
def test_a_changed_signature_fails(signer: ConclusionSigner, form: SignatureForm) -> None:
    signature = signer.sign(document(), form)
    flipped = ("A" if signature.value[0] != "A" else "B") + signature.value[1:]
    assert not signer.verify(document(), dataclasses.replace(signature, value=flipped))
    assert not signer.verify(document(), dataclasses.replace(signature, value="!!not-base64"))


def test_another_key_or_an_unknown_key_id_fails(signer: ConclusionSigner) -> None:
    other = ConclusionSigner(Ed25519PrivateKey.generate())
    for form in (LEGACY, JWS):
        forged = other.sign(document(), form)
        assert not signer.verify(document(), forged)
        claimed = Signature(forged.value, signer.key_id, forged.sha256, form)
        assert not signer.verify(document(), claimed)


def test_conclusions_signed_before_a_key_rotation_still_verify() -> None:
    retired_key = Ed25519PrivateKey.generate()
    retired = ConclusionSigner(retired_key)
    old = document()
    old_signature = retired.sign(old, LEGACY)
    current = ConclusionSigner(Ed25519PrivateKey.generate(), [retired_key.public_key()])
    assert current.verify(old, old_signature)
    assert current.verify(old, retired.sign(old, JWS))
    assert current.sign(document(version=2), JWS).key_id == current.key_id != retired.key_id
    assert [key["kid"] for key in current.jwks] == [current.key_id, retired.key_id]
    forgotten = ConclusionSigner(Ed25519PrivateKey.generate())
    assert not forgotten.verify(old, old_signature)


async def test_retired_keys_come_from_settings(tmp_path: Path) -> None:
    old_key_path = tmp_path / "old.pem"
    old_key = load_or_create_private_key(old_key_path)
    settings = ConsultSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'consult.sqlite3'}",
        var_dir=tmp_path,
        retired_signing_keys=[old_key_path],
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        signer: ConclusionSigner = app.state.conclusion_signer
        old_signature = ConclusionSigner(old_key).sign(document(), LEGACY)
        assert signer.verify(document(), old_signature)
        assert len(signer.jwks) == 2


def test_the_worked_example_in_the_api_guide_is_what_the_code_signs() -> None:
    """docs/api.md's form 2 example, with RFC 8037's test key, so readers can reproduce it."""
    key = Ed25519PrivateKey.from_private_bytes(
        b64url_decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
    )
    signer = ConclusionSigner(key)
    assert signer.key_id == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"  # RFC 8037 A.3
    example = document(
        content=CONTENT
        | {
            "findings": "NSTEMI, high GRACE risk.",
            "diagnosis_text": "Инфаркт миокарда",
            "recommendations": "Transfer to the PCI centre within 24 hours.",
            "recommended_tests": [],
        }
    )
    guide = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
    compact = detached_jws(signer.sign(example, JWS))
    assert f"\n{example.jcs().decode()}\n" in guide
    assert f"\n{compact}\n" in guide
