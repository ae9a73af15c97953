"""A home visit called for a registered patient becomes a message to them: the day and the
window the operator read out, in the polyclinic's zone, and who comes."""

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from gateway.notify.enums import Template
from gateway.notify.producers import people
from gateway.notify.producers.context import Producing


class HomeVisitData(BaseModel):
    """The part of consult's `home_visit.requested` data the message needs."""

    model_config = ConfigDict(extra="ignore")

    organization_id: uuid.UUID
    timezone: str
    window_starts_at: datetime
    window_ends_at: datetime
    patient_id: uuid.UUID | None = None


async def requested(produce: Producing) -> int:
    """Only a caller with an account can be told: the others heard the window on the phone."""
    data = HomeVisitData.model_validate(produce.event.data)
    patient = await people.recipient(produce.session, data.patient_id)
    if patient is None:
        return 0
    polyclinic = await people.organization(produce.session, data.organization_id)
    params = {
        "start": people.utc_text(data.window_starts_at),
        "end": people.utc_text(data.window_ends_at),
        "timezone": data.timezone,
        "organization_name": polyclinic.name if polyclinic else "",
    }
    return await produce.tell(patient, Template.VISIT_HOME, params)
