"""Conclusion signatures: the canonical form is stable, and any change fails verification."""

import dataclasses
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.consult.signing import ConclusionSigner, Signature, SignedDocument

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


def test_a_signed_document_verifies(signer: ConclusionSigner) -> None:
    signature = signer.sign(document())
    assert signature.key_id == signer.jwk["kid"]
    assert len(signature.sha256) == 64
    assert signer.verify(document(), signature)


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
    signer: ConclusionSigner, tampered: SignedDocument
) -> None:
    signature = signer.sign(document())
    assert not signer.verify(tampered, signature)
    # Even with the digest recomputed to match, the signature itself no longer fits.
    rehashed = dataclasses.replace(signature, sha256=tampered.sha256())
    assert not signer.verify(tampered, rehashed)


def test_a_changed_signature_fails(signer: ConclusionSigner) -> None:
    signature = signer.sign(document())
    flipped = ("A" if signature.value[0] != "A" else "B") + signature.value[1:]
    assert not signer.verify(document(), dataclasses.replace(signature, value=flipped))
    assert not signer.verify(document(), dataclasses.replace(signature, value="!!not-base64"))


def test_another_key_or_an_unknown_key_id_fails(signer: ConclusionSigner) -> None:
    other = ConclusionSigner(Ed25519PrivateKey.generate())
    forged = other.sign(document())
    assert not signer.verify(document(), forged)
    assert not signer.verify(document(), Signature(forged.value, signer.key_id, forged.sha256))
