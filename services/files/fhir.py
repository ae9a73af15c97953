"""FHIR R4 rendering of a stored file as a DocumentReference. A pure function, no I/O."""

from typing import Any

from services.common.fhir import (
    LOINC_SYSTEM,
    SYSTEM_BASE,
    coding,
    concept,
    hyphenated,
    instant,
    local_code,
    reference,
)
from services.files.enums import FileKind
from services.files.models import StoredFile

K = FileKind
# LOINC document types of our kinds, where one fits; every kind has our own code as well.
DOCUMENT_TYPES = {
    K.LAB_RESULT: ("11502-2", "Laboratory report"),
    K.RECORD_EXTRACT: ("34133-9", "Summary of episode note"),
    K.IMAGING: ("18748-4", "Diagnostic imaging study"),
    K.ECG: ("11524-6", "EKG study"),
    K.PHOTO: ("72170-4", "Photographic image"),
}
DOCUMENT_STATUSES = ("current",)  # deleted files are gone from every view, as from the API
# R4's Attachment.hash is SHA-1; ours is SHA-256, so it travels in an extension.
SHA256_EXTENSION = SYSTEM_BASE + "StructureDefinition/attachment-sha256"


def content_path(record: StoredFile) -> str:
    """The bytes, relative to the gateway (a bearer token is needed, as for the API)."""
    return f"/api/files/files/{record.id}/content"


def document_reference(record: StoredFile, subject: dict[str, Any] | None) -> dict[str, Any]:
    """`subject` is the patient of the file's case, as the consult service renders it, when
    the caller may read that case."""
    loinc = DOCUMENT_TYPES.get(record.kind)
    codings = [local_code("file-kind", hyphenated(record.kind.value))]
    if loinc:
        codings.append(coding(LOINC_SYSTEM, *loinc))
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": str(record.id),
        "meta": {"lastUpdated": instant(record.updated_at)},
        "status": DOCUMENT_STATUSES[0],
        "docStatus": "final",
        "type": concept(*codings),
        "date": instant(record.created_at),
        "author": [
            reference("Organization", record.organization_id)
            if record.organization_id
            else reference("Patient", record.uploaded_by)  # a patient's own upload
        ],
        "description": record.display_name,
        "content": [
            {
                "attachment": {
                    "extension": [{"url": SHA256_EXTENSION, "valueString": record.sha256}],
                    "contentType": record.media_type,
                    "url": content_path(record),
                    "size": record.size,
                    "title": record.display_name,
                    "creation": instant(record.created_at),
                }
            }
        ],
    }
    if subject:
        resource["subject"] = subject
    if record.case_id:
        resource["context"] = {"related": [reference("ServiceRequest", record.case_id)]}
    return resource
