"""Shapes of the visits routes: the invitation queued again, and the appointment as the
gateway reads it from scheduling."""

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from gateway.notify.enums import Template


class InvitationResend(BaseModel):
    """No fields: what is sent is the visit as scheduling has it now. An `Idempotency-Key`
    makes a retry (a double click) queue nothing more."""

    model_config = ConfigDict(extra="forbid")


class InvitationQueued(BaseModel):
    appointment_id: uuid.UUID
    recipient_id: uuid.UUID = Field(description="The patient.")
    template: Template = Field(examples=[Template.VISIT_INVITATION.value])


class PatientTime(BaseModel):
    timezone: str


class AppointmentView(BaseModel):
    """What the gateway needs of scheduling's `AppointmentOut`."""

    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    status: str
    visit_type: str
    organization_id: uuid.UUID
    practitioner_id: uuid.UUID | None
    patient_id: uuid.UUID | None
    start: datetime
    end: datetime
    patient_local: PatientTime
    replaced_by_id: uuid.UUID | None = None
