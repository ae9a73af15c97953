"""The consult, files and directory answers the case screens read, as the public API documents
them (docs/api.md); fields the screens do not use are ignored."""

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Patient(Answer):
    reference: str
    full_name: str
    birth_date: date
    sex: str
    insurance_policy: str


class Diagnosis(Answer):
    code: str
    text: str


class VitalSigns(Answer):
    systolic_bp: int | None = None
    diastolic_bp: int | None = None
    heart_rate: int | None = None
    respiratory_rate: int | None = None
    temperature_c: float | None = None
    spo2: int | None = None


class ClinicalSummary(Answer):
    present_illness: str
    relevant_history: str = ""
    vital_signs: VitalSigns = Field(default_factory=VitalSigns)
    main_diagnosis: Diagnosis
    accompanying_diagnoses: list[Diagnosis] = Field(default_factory=list)
    current_treatment: str = ""


class CaseSummary(Answer):
    """A queue's row: no patient and no clinical text (the API leaves them out of lists)."""

    id: uuid.UUID
    kind: str
    status: str
    urgency: str
    mode: str
    specialty: str
    requester_id: uuid.UUID
    requesting_organization_id: uuid.UUID
    target_organization_id: uuid.UUID
    assignee_id: uuid.UUID | None
    flagged: bool = False
    due_at: datetime
    submitted_at: datetime | None
    created_at: datetime
    overdue: bool


class Attachment(Answer):
    id: uuid.UUID
    display_name: str
    kind: str
    media_type: str
    size: int
    modality: str | None = None


class Case(CaseSummary):
    resume_status: str | None = None
    patient: Patient
    question: str
    summary: ClinicalSummary | None
    attachment_ids: list[uuid.UUID]
    attachments: list[Attachment]
    accepted_at: datetime | None
    concluded_at: datetime | None
    closed_at: datetime | None
    decline_reason: str | None
    cancel_reason: str | None
    updated_at: datetime
    version: int


class CasePage(Answer):
    items: list[CaseSummary]
    next_cursor: str | None


class Message(Answer):
    id: uuid.UUID
    author_id: uuid.UUID
    author_role: str
    kind: str
    text: str
    created_at: datetime


class ConclusionContent(Answer):
    findings: str
    diagnosis_text: str
    diagnosis_codes: list[str]
    recommendations: str
    recommended_tests: list[str] = Field(default_factory=list)
    in_person_visit_needed: bool = False
    hospitalisation_needed: bool = False


class Conclusion(Answer):
    version: int
    author_id: uuid.UUID
    issued_at: datetime
    content: ConclusionContent
    amends_version: int | None
    amendment_reason: str | None
    content_sha256: str
    key_id: str
    signature_valid: bool


class UrgencyDeadline(Answer):
    urgency: str
    due_at: datetime


class DeadlinePreview(Answer):
    as_of: datetime
    deadlines: list[UrgencyDeadline]


class Grant(Answer):
    """Consult's word to the files service that the reader may read these files of the case."""

    grant: str
    file_ids: list[uuid.UUID]


class FileInfo(Answer):
    """A file's metadata from the files service; `dicom` holds a study's facts, no identities."""

    id: uuid.UUID
    display_name: str
    kind: str
    media_type: str
    size: int
    sha256: str
    created_at: datetime
    dicom: dict[str, Any] | None = None


class UploadState(Answer):
    id: uuid.UUID
    status: str
    file_id: uuid.UUID | None


class StoredFile(Answer):
    id: uuid.UUID


class Organization(Answer):
    id: uuid.UUID
    name: str
    kind: str
    region: str
    timezone: str


class Person(Answer):
    id: uuid.UUID
    full_name: str
    role: str
    specialty: str | None = None


class RegisteredPatient(Answer):
    """A patient of the directory's register, as staff who keep it find them."""

    id: uuid.UUID
    full_name: str
    birth_date: date
    sex: str
    policy_number: str | None


class PatientPage(Answer):
    items: list[RegisteredPatient]
