"""Pydantic shapes of consilia: convening, invitations, signed opinions and the protocol."""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.common.times import AwareInstant
from services.consult.cases.enums import ConsiliumStatus, InvitationStatus
from services.consult.cases.schemas import ConclusionContent
from services.consult.values import Icd10Code, LongText, Specialty, Strict


class InvitationCreate(Strict):
    """One specialist by their user id, or any specialist of a specialty in an organisation."""

    user_id: uuid.UUID | None = Field(default=None, description="A specialist, by user id.")
    specialty: Specialty | None = Field(
        default=None, description="Any specialist of it may answer; the first to accept sits."
    )
    organization_id: uuid.UUID | None = Field(
        default=None,
        description="With `specialty`: whose specialists; the chair's organisation by default.",
    )

    @model_validator(mode="after")
    def _one_addressee(self) -> "InvitationCreate":
        if (self.user_id is None) == (self.specialty is None):
            raise ValueError("invite either a specialist (`user_id`) or a `specialty`")
        if self.user_id is not None and self.organization_id is not None:
            raise ValueError("`organization_id` goes with a `specialty`")
        return self


Invitations = Annotated[list[InvitationCreate], Field(min_length=1, max_length=20)]


class ConsiliumCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "agenda": "CABG or PCI for three-vessel disease with type 2 diabetes?",
                    "invitations": [
                        {"user_id": "2c5ea4c0-4067-11e9-8bad-9b1deb4d3b7d"},
                        {
                            "specialty": "cardiac_surgery",
                            "organization_id": "6fa459ea-ee8a-3ca4-894e-db77e160355e",
                        },
                    ],
                }
            ]
        }
    )

    agenda: LongText = Field(examples=["CABG or PCI for three-vessel disease with diabetes?"])
    invitations: Invitations


class InvitationsCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"invitations": [{"specialty": "endocrinology"}]}]}
    )

    invitations: Invitations


class OpinionContent(Strict):
    assessment: LongText = Field(examples=["SYNTAX score 34; diabetes favours surgery."])
    diagnosis_codes: list[Icd10Code] = Field(default_factory=list, max_length=20)
    recommendations: LongText = Field(examples=["CABG after stabilisation."])


class OpinionCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "content": {
                        "assessment": "SYNTAX score 34; diabetes favours surgery.",
                        "diagnosis_codes": ["I25.1", "E11.9"],
                        "recommendations": "CABG after stabilisation; HbA1c below 8% first.",
                    }
                }
            ]
        }
    )

    content: OpinionContent


class ProtocolCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "decision": {
                        "findings": "Three-vessel disease, SYNTAX 34, type 2 diabetes.",
                        "diagnosis_text": "Atherosclerotic heart disease",
                        "diagnosis_codes": ["I25.1", "E11.9"],
                        "recommendations": "CABG at the Kuzbass Cardiology Centre.",
                        "recommended_tests": ["HbA1c", "carotid duplex scan"],
                        "in_person_visit_needed": True,
                        "hospitalisation_needed": True,
                    },
                    "close_unanswered": False,
                }
            ]
        }
    )

    decision: ConclusionContent
    close_unanswered: bool = Field(
        default=False,
        description="Close the invitations still unanswered (pending, or accepted without an "
        "opinion) and issue the protocol without them; otherwise they make it a 409.",
    )


class RoomRequest(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"starts_at": "2025-10-28T10:00:00+07:00"}]}
    )

    starts_at: AwareInstant = Field(examples=["2025-10-28T10:00:00+07:00"])


class InvitationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    consilium_id: uuid.UUID
    case_id: uuid.UUID
    invitee_id: uuid.UUID | None = Field(
        description="The specialist named, or the one of the specialty who answered."
    )
    organization_id: uuid.UUID | None
    specialty: str | None
    status: InvitationStatus
    invited_at: datetime
    answered_at: datetime | None
    reason: str | None = Field(description="Why it was declined, or closed by the chair.")


class Signed(BaseModel):
    id: uuid.UUID
    author_id: uuid.UUID
    issued_at: datetime
    content_sha256: str = Field(description="SHA-256 of the canonical signed document.")
    signature: str = Field(description="Ed25519 signature (base64url) of the canonical document.")
    key_id: str = Field(description="RFC 7638 thumbprint of the signing key (`/conclusion-keys`).")
    signature_valid: bool = Field(description="Whether the stored signature verifies now.")


class OpinionOut(Signed):
    invitation_id: uuid.UUID
    specialty: str
    content: OpinionContent


class Citation(BaseModel):
    """How the protocol names an opinion: by id, and by the digest and signature it had;
    each value exactly as the protocol's signature covers it."""

    opinion_id: uuid.UUID
    author_id: uuid.UUID
    specialty: str
    issued_at: str = Field(examples=["2025-10-20T10:00:00+00:00"])
    content_sha256: str
    signature: str
    key_id: str


class ProtocolOut(Signed):
    decision: ConclusionContent
    opinions: list[Citation]
    citations_valid: bool = Field(
        description="Whether every cited opinion is stored unchanged and its signature verifies."
    )


class ConsiliumOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    chair_id: uuid.UUID
    organization_id: uuid.UUID
    status: ConsiliumStatus
    agenda: str
    convened_at: datetime
    room_id: uuid.UUID | None = Field(description="The video room: `/api/video/rooms/{id}`.")
    room_starts_at: datetime | None
    invitations: list[InvitationOut]
    opinions: list[OpinionOut]
    protocol: ProtocolOut | None
