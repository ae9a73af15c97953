"""The home-visit event webhooks announce and notify tells the registered patient of: a call
taken, with its day and window; never who the patient is or where they live."""

from services.common.outbox import EventType
from services.common.uow import UnitOfWork
from services.consult.db import OUTBOX
from services.consult.home_visits.models import HomeVisit


async def home_visit_requested(uow: UnitOfWork, visit: HomeVisit) -> None:
    data = {
        "status": visit.status.value,
        "urgency": visit.urgency.value,
        "organization_id": visit.organization_id,
        "visit_day": visit.visit_day.isoformat(),
        "timezone": visit.timezone,
        "window_starts_at": visit.window_starts_at,
        "window_ends_at": visit.window_ends_at,
        # An account's id, for notify to text the patient the window; no name, no phone.
        "patient_id": visit.patient_id,
    }
    await OUTBOX.record(
        uow, EventType.HOME_VISIT_REQUESTED, ("home_visit", visit.id), [visit.organization_id], data
    )
