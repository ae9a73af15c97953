"""A stored file as a FHIR R4 DocumentReference: one rendering, so the files service (a file it
holds, read by id) and consult (a file a case lists, found by case or patient) agree."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.common.fhir import (
    LOINC_SYSTEM,
    FhirTerms,
    coding,
    concept,
    hyphenated,
    instant,
    reference,
)

# LOINC document types of the files service's kinds, where one fits; every kind has our own
# code as well.
DOCUMENT_TYPES = {
    "lab_result": ("11502-2", "Laboratory report"),
    "record_extract": ("34133-9", "Summary of episode note"),
    "imaging": ("18748-4", "Diagnostic imaging study"),
    "ecg": ("11524-6", "EKG study"),
    "photo": ("72170-4", "Photographic image"),
}
DOCUMENT_STATUSES = ("current",)  # deleted files are gone from every view, as from the API
# R4's Attachment.hash is SHA-1; ours is SHA-256, so it travels in an extension (of ours:
# `<fhir_system_base>StructureDefinition/attachment-sha256`).
SHA256_EXTENSION = "StructureDefinition/attachment-sha256"


@dataclass(frozen=True)
class StoredDocument:
    """What both services know of a stored file."""

    id: uuid.UUID
    kind: str  # the files service's kind: `lab_result`, `ecg`...
    title: str
    media_type: str
    size: int
    sha256: str
    stored_at: datetime | None  # unknown for attachments listed before consult kept it
    case_id: uuid.UUID | None


def content_url(terms: FhirTerms, file_id: uuid.UUID) -> str:
    """The bytes, at the gateway: the owner's token, or a reader's with consult's grant
    (`Telemed-Grant`, or `?grant=`)."""
    return terms.url(f"/api/files/files/{file_id}/content")


def case_content_url(terms: FhirTerms, file_id: uuid.UUID) -> str:
    """The bytes of a case's file for whoever reads the case, with their token alone: consult
    answers with a redirect to `content_url` carrying its grant for them."""
    return terms.url(f"/api/consult/fhir/DocumentReference/{file_id}/content")


def document_reference(
    terms: FhirTerms,
    document: StoredDocument,
    *,
    subject: dict[str, Any] | None = None,
    author: dict[str, Any] | None = None,
    last_updated: datetime | None = None,
    url: str | None = None,
) -> dict[str, Any]:
    """`subject` is the case's patient, which only consult knows; `author` the owner, which
    only the files service knows; `url` where the bytes are (`content_url` by default)."""
    loinc = DOCUMENT_TYPES.get(document.kind)
    codings = [terms.local("file-kind", hyphenated(document.kind))]
    if loinc:
        codings.append(coding(LOINC_SYSTEM, *loinc))
    attachment: dict[str, Any] = {
        "extension": [{"url": terms.system(SHA256_EXTENSION), "valueString": document.sha256}],
        "contentType": document.media_type,
        "url": url or content_url(terms, document.id),
        "size": document.size,
        "title": document.title,
    }
    resource: dict[str, Any] = {"resourceType": "DocumentReference", "id": str(document.id)}
    if last_updated:
        resource["meta"] = {"lastUpdated": instant(last_updated)}
    resource |= {"status": DOCUMENT_STATUSES[0], "docStatus": "final", "type": concept(*codings)}
    if subject:
        resource["subject"] = subject
    if document.stored_at:
        resource["date"] = instant(document.stored_at)
        attachment["creation"] = instant(document.stored_at)
    if author:
        resource["author"] = [author]
    resource |= {"description": document.title, "content": [{"attachment": attachment}]}
    if document.case_id:
        resource["context"] = {"related": [reference("ServiceRequest", document.case_id)]}
    return resource
