"""Pydantic shapes of the files API: file records, links, pins to cases, legal holds."""

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.files.dicom import DicomMetadata
from services.files.enums import FileKind

SHA256_PATTERN = r"^[0-9a-f]{64}$"


class FileOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organization_id: uuid.UUID | None
    uploaded_by: uuid.UUID
    case_id: uuid.UUID | None = Field(
        description="The case consult pinned the file to, once that case was stored."
    )
    kind: FileKind
    display_name: str = Field(examples=["ECG 12-lead 2026-11-20.pdf"])
    media_type: str = Field(examples=["application/pdf"])
    size: int = Field(examples=[184_233])
    sha256: str = Field(
        examples=["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"]
    )
    created_at: datetime
    dicom: DicomMetadata | None = None
    legal_hold: bool


class PinRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"case_id": "5d2b8c41-7e3a-4f09-b6d2-1a9c3e7f5b20"}]},
    )

    case_id: uuid.UUID = Field(description="The case consult's grant names.")


class LinkRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"seconds": 300, "deidentified": True}]}
    )

    seconds: int | None = Field(
        default=None, ge=10, description="Lifetime of the link; the service's default if absent."
    )
    deidentified: bool = Field(
        default=False, description="For DICOM files: a link to the de-identified copy."
    )


class LinkOut(BaseModel):
    url: str = Field(description="Fetch it without a token; it stops working at `expires_at`.")
    expires_at: datetime


class LegalHoldRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "hold": True,
                    "reason": "Request of the Kemerovo Region Prosecutor's Office No. 7-112/2026",
                }
            ]
        },
    )

    hold: bool
    reason: str = Field(min_length=3, max_length=500, examples=["Court request 2-114/2026"])


class UploadOut(BaseModel):
    """A resumable upload's state, for clients that want more than tus's HEAD."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    length: int
    offset: int
    status: str
    expires_at: datetime
    file_id: uuid.UUID | None
