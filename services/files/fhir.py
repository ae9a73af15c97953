"""FHIR R4 rendering of a stored file as a DocumentReference. A pure function, no I/O."""

from typing import Any

from services.common.fhir import FhirTerms, reference
from services.common.fhir_documents import StoredDocument
from services.common.fhir_documents import document_reference as render
from services.files.models import StoredFile


def document_reference(terms: FhirTerms, record: StoredFile) -> dict[str, Any]:
    """The file as its owner and grant holders see it. The case's patient (`subject`) is
    consult's to say: its DocumentReference search by case or patient renders that."""
    document = StoredDocument(
        id=record.id,
        kind=record.kind.value,
        title=record.display_name,
        media_type=record.media_type,
        size=record.size,
        sha256=record.sha256,
        stored_at=record.created_at,
        case_id=record.case_id,
    )
    author = (
        reference("Organization", record.organization_id)
        if record.organization_id
        else reference("Patient", record.uploaded_by)  # a patient's own upload
    )
    return render(terms, document, author=author, last_updated=record.updated_at)
