"""Pydantic shapes of the consult API: cases, the work queue, messages and conclusions."""

import uuid
from datetime import datetime
from typing import Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)

from services.common.db import utcnow
from services.common.times import AwareInstant
from services.consult.cases.enums import (
    OPEN_STATUSES,
    CaseKind,
    CaseStatus,
    ConsultationMode,
    MessageKind,
    SignatureForm,
)
from services.consult.cases.models import Case
from services.consult.values import (
    Icd10Code,
    LongText,
    OptionalLongText,
    Patient,
    ShortText,
    Specialty,
    Strict,
    Urgency,
    VitalSigns,
    WorseningSign,
    patient_of,
)


class Diagnosis(Strict):
    code: Icd10Code
    text: str = Field(min_length=1, max_length=500, examples=["Acute subendocardial MI"])


class ClinicalSummary(Strict):
    present_illness: LongText = Field(examples=["Chest pain for 6 hours, ST depression V4-V6."])
    relevant_history: OptionalLongText = Field(default="", examples=["Hypertension 10 years."])
    vital_signs: VitalSigns = Field(default_factory=VitalSigns)
    main_diagnosis: Diagnosis
    accompanying_diagnoses: list[Diagnosis] = Field(default_factory=list, max_length=20)
    current_treatment: OptionalLongText = Field(default="", examples=["Aspirin 300 mg, heparin."])


class CaseCreate(Strict):
    """A district medic's question to a regional centre (as `telemed.samples.sample_case`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "target_organization_id": "3f1c2a9e-8d4b-4c7e-9a51-0b6f2d7e4c10",
                    "specialty": "cardiology",
                    "patient": {
                        "reference": "MIS-42-000123",
                        "full_name": "Petrov Ivan Sergeevich",
                        "birth_date": "1961-04-12",
                        "sex": "male",
                        "insurance_policy": "4250000000000123",
                    },
                    "urgency": "urgent",
                    "mode": "written",
                    "question": "Is transfer for PCI indicated?",
                    "summary": {
                        "present_illness": "Chest pain for 6 hours, ST depression V4-V6.",
                        "relevant_history": "Hypertension 10 years.",
                        "vital_signs": {
                            "systolic_bp": 150,
                            "diastolic_bp": 95,
                            "heart_rate": 98,
                            "spo2": 95,
                        },
                        "main_diagnosis": {"code": "I21.4", "text": "Acute subendocardial MI"},
                        "accompanying_diagnoses": [{"code": "I10", "text": "Hypertension"}],
                        "current_treatment": "Aspirin 300 mg, heparin.",
                    },
                    "attachment_ids": ["9b2e4f61-5c3d-4a8e-b7f0-2d1c6e9a8b34"],
                    "submit": True,
                }
            ]
        }
    )

    target_organization_id: uuid.UUID = Field(description="The regional centre asked.")
    specialty: Specialty
    patient: Patient
    urgency: Urgency = Field(examples=[Urgency.URGENT])
    mode: ConsultationMode = Field(default=ConsultationMode.WRITTEN)
    question: LongText = Field(examples=["Is transfer for PCI indicated?"])
    summary: ClinicalSummary
    attachment_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)
    submit: bool = Field(default=False, description="Submit at once instead of keeping a draft.")


class CaseUpdate(Strict):
    """Fields to change; the target and specialty can change only while the case is a draft."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "urgency": "emergency",
                    "summary": {
                        "present_illness": "Chest pain for 8 hours, troponin I 2.1 ng/ml.",
                        "relevant_history": "Hypertension 10 years.",
                        "vital_signs": {"systolic_bp": 140, "heart_rate": 104, "spo2": 94},
                        "main_diagnosis": {"code": "I21.4", "text": "Acute subendocardial MI"},
                        "accompanying_diagnoses": [{"code": "I10", "text": "Hypertension"}],
                        "current_treatment": "Aspirin 300 mg, clopidogrel 300 mg, heparin.",
                    },
                    "attachment_ids": ["9b2e4f61-5c3d-4a8e-b7f0-2d1c6e9a8b34"],
                }
            ]
        }
    )

    target_organization_id: uuid.UUID | None = None
    specialty: Specialty | None = None
    patient: Patient | None = None
    urgency: Urgency | None = None
    mode: ConsultationMode | None = None
    question: LongText | None = None
    summary: ClinicalSummary | None = None
    attachment_ids: list[uuid.UUID] | None = Field(default=None, max_length=50)


class ReasonRequest(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "Outside my profile: ask a cardiac surgeon."}]}
    )

    reason: ShortText = Field(examples=["Outside this centre's profile; ask the cardiac centre."])


class CancelRequest(Strict):
    reason: ShortText | None = Field(default=None, examples=["Patient transferred by ambulance."])


class InfoRequest(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"message": "Please attach the ECG taken on admission and troponin I."}]
        }
    )

    message: LongText = Field(examples=["Please attach the ECG taken on admission."])


class InfoResponse(InfoRequest):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "message": "ECG on admission attached; troponin I 2.1 ng/ml at 14:20.",
                    "attachment_ids": ["5d7a1c3e-2b4f-4e6a-9c8d-7f0e1a2b3c4d"],
                }
            ]
        }
    )

    attachment_ids: list[uuid.UUID] = Field(
        default_factory=list, max_length=50, description="Files to add to the case's."
    )


class MessageCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"text": "Troponin I came back at 2.1 ng/ml; the patient is stable."}]
        }
    )

    text: LongText = Field(examples=["Troponin came back at 2.1 ng/ml."])


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    author_id: uuid.UUID
    author_role: str
    kind: MessageKind
    text: str
    created_at: datetime


class CaseSummary(BaseModel):
    """What the queue shows of a case, without clinical content."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: CaseKind
    status: CaseStatus
    urgency: Urgency
    mode: ConsultationMode
    specialty: str
    region: str
    requester_id: uuid.UUID
    requesting_organization_id: uuid.UUID
    target_organization_id: uuid.UUID
    assignee_id: uuid.UUID | None
    flagged: bool = Field(description="A patient reported signs of a worsening.")
    due_at: datetime
    submitted_at: datetime | None
    created_at: datetime
    # A field set on validation, not a computed one: a computed field gives the model (and
    # the clinical summary inside CaseOut) a second, output-only schema in the OpenAPI
    # document, which generators drop.
    overdue: bool = Field(default=False, description="Still open past `due_at`, as answered.")

    @model_validator(mode="after")
    def _overdue_now(self) -> Self:
        self.overdue = self.status in OPEN_STATUSES and self.due_at < utcnow()
        return self


class Attachment(BaseModel):
    """An attached file as the files service described it; its bytes are at
    `/api/files/files/{id}/content`, read with the case's attachments grant
    (`POST /api/consult/cases/{id}/attachments/grant`) unless the file is yours."""

    id: uuid.UUID
    display_name: str = Field(examples=["ECG 12-lead.pdf"])
    kind: str = Field(examples=["ecg"])
    media_type: str = Field(examples=["application/pdf"])
    size: int
    sha256: str
    modality: str | None = Field(default=None, description="For DICOM studies.", examples=["CT"])
    stored_at: datetime | None = Field(
        default=None, description="When the files service stored it; absent on older cases."
    )


class AttachmentsGrant(BaseModel):
    """Consult's word to the files service that the caller may read these files of the case."""

    grant: str = Field(
        description="Send it as the `Telemed-Grant` header (or `?grant=` on a download) with "
        "your own bearer token; it is yours alone and expires at `expires_at`."
    )
    expires_at: datetime
    case_id: uuid.UUID
    file_ids: list[uuid.UUID] = Field(description="The case's attachments it covers.")


class CaseOut(CaseSummary):
    resume_status: CaseStatus | None
    patient: Patient
    question: str
    summary: ClinicalSummary | None = Field(description="None on a patient's own request.")
    attachment_ids: list[uuid.UUID]
    attachments: list[Attachment]
    patient_id: uuid.UUID | None = Field(
        description="On a patient's request: the patient, who may differ from the requester "
        "when a coordinator filed it on their behalf."
    )
    episode_id: uuid.UUID | None = Field(description="The care episode of the scheduling service.")
    worsening_signs: list[str]
    follow_up_appointment_id: uuid.UUID | None = Field(
        description="The remote follow-up booked in answer to a patient's request."
    )
    accepted_at: datetime | None
    concluded_at: datetime | None
    closed_at: datetime | None
    decline_reason: str | None
    cancel_reason: str | None
    updated_at: datetime
    version: int = Field(
        description="Raised by every change of the case; also its `ETag`. Send it back as "
        '`If-Match: "<version>"` when editing, so an edit made meanwhile is not overwritten.',
        examples=[3],
    )


class CasePage(BaseModel):
    items: list[CaseSummary]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class OverdueCount(BaseModel):
    overdue: int = Field(examples=[3])


class UrgencyDeadline(BaseModel):
    urgency: Urgency
    due_at: datetime


class DeadlinePreview(BaseModel):
    """When a case to the target would be due, by urgency, were it submitted at `as_of`."""

    target_organization_id: uuid.UUID
    as_of: datetime
    deadlines: list[UrgencyDeadline] = Field(description="One per urgency, most urgent first.")


class ConclusionContent(Strict):
    findings: LongText = Field(examples=["NSTEMI, high GRACE risk."])
    diagnosis_text: ShortText = Field(examples=["Acute subendocardial myocardial infarction"])
    diagnosis_codes: list[Icd10Code] = Field(min_length=1, max_length=20)
    recommendations: LongText = Field(examples=["Transfer to the PCI centre within 24 hours."])
    recommended_tests: list[ShortText] = Field(default_factory=list, max_length=50)
    in_person_visit_needed: bool = False
    hospitalisation_needed: bool = False


class ConclusionCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "content": {
                        "findings": "NSTEMI, high GRACE risk.",
                        "diagnosis_text": "Acute subendocardial myocardial infarction",
                        "diagnosis_codes": ["I21.4"],
                        "recommendations": "Transfer to the PCI centre within 24 hours.",
                        "recommended_tests": ["troponin in 3 hours"],
                        "in_person_visit_needed": True,
                        "hospitalisation_needed": True,
                    }
                }
            ]
        }
    )

    content: ConclusionContent
    amendment_reason: ShortText | None = Field(
        default=None, description="Required when the case already has a conclusion."
    )


class ConclusionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    case_id: uuid.UUID
    version: int
    author_id: uuid.UUID
    issued_at: datetime
    content: ConclusionContent
    amends_version: int | None
    amendment_reason: str | None
    content_sha256: str = Field(description="SHA-256 (hex) of the signed bytes.")
    signature: str = Field(
        description="Ed25519 signature (base64url): form 2's JWS signature, form 1's bare one."
    )
    key_id: str = Field(description="RFC 7638 thumbprint of the signing key.")
    signature_form: SignatureForm = Field(
        description="2: a JWS over the RFC 8785 document (docs/api.md); 1: issued before it."
    )
    signature_valid: bool = Field(description="Whether the stored signature verifies now.")


class SignedConclusionOut(BaseModel):
    """What a version's signature covers, byte for byte, with the signature: enough to check it
    with the published key alone (docs/api.md, "Checking a conclusion's signature")."""

    case_id: uuid.UUID
    version: int
    signature_form: SignatureForm = Field(
        description="2: a JWS over the RFC 8785 document; 1: sorted-keys JSON signed bare."
    )
    payload: str = Field(
        description="The exact signed bytes, base64url without padding: form 2's JWS payload "
        "(the RFC 8785 document), form 1's canonical JSON."
    )
    payload_sha256: str = Field(description="SHA-256 (hex) of the payload when it was signed.")
    jws: str | None = Field(
        description="Form 2: the compact JWS with its payload detached (RFC 7515 appendix F), "
        "`header..signature`; put `payload` between the dots for the whole JWS. Form 1: null."
    )
    signature: str = Field(description="The Ed25519 signature, base64url without padding.")
    key_id: str = Field(
        description="The `kid` of the signing key in `GET /api/consult/conclusion-keys`."
    )


class SigningKeys(BaseModel):
    keys: list[dict[str, str]]


class PatientRequestCreate(Strict):
    """A patient's question to the specialist who saw them in person."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "patient": {
                        "reference": "MIS-42-004711",
                        "full_name": "Сидорова Мария Петровна",
                        "birth_date": "1956-03-14",
                        "sex": "female",
                        "insurance_policy": "4256789012345678",
                    },
                    "specialty": "cardiology",
                    "question": "My potassium came back at 5.6; keep the spironolactone?",
                    "mode": "written",
                    "worsening_signs": ["shortness_of_breath"],
                    "attachment_ids": ["9b2e4f61-5c3d-4a8e-b7f0-2d1c6e9a8b34"],
                }
            ]
        }
    )

    patient_id: uuid.UUID | None = Field(
        default=None,
        description="Whose request. A patient's own by default; a coordinator filing it on the "
        "patient's behalf names them.",
    )
    patient: Patient
    specialty: Specialty
    episode_id: uuid.UUID | None = Field(
        default=None,
        description="The care episode of the in-person visit; by default the one with the "
        "latest fulfilled in-person visit of the specialty.",
    )
    question: LongText = Field(examples=["My potassium came back at 5.6; keep the spironolactone?"])
    mode: ConsultationMode = Field(
        default=ConsultationMode.WRITTEN,
        description="The answer preferred: written, or a video follow-up.",
    )
    worsening_signs: list[WorseningSign] = Field(
        default_factory=list,
        max_length=20,
        description="Any of `GET /api/consult/worsening-signs`: the request becomes urgent and "
        "flagged.",
    )
    attachment_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)


class FollowUpCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"start": "2025-10-28T10:00:00+07:00"}]}
    )

    start: AwareInstant = Field(
        examples=["2025-10-28T10:00:00+07:00"],
        description="A free remote slot of the answering specialist's schedule.",
    )


class WorseningSigns(BaseModel):
    signs: list[str] = Field(examples=[["chest_pain", "fainting"]])


def case_out(case: Case) -> CaseOut:
    """The API view of a stored case; the patient columns become one nested object."""
    fields = {
        name: getattr(case, name)
        for name in CaseOut.model_fields
        if name not in {"patient", "overdue"}  # `overdue` is worked out on validation
    }
    # A patient's own request carries no clinical summary.
    return CaseOut.model_validate(
        {**fields, "patient": patient_of(case), "summary": case.summary or None}
    )
