"""Messages to doctors about consultation cases, from consult's case events: the author hears
of the conclusion and of a request for more information, the specialist an emergency or
urgent case is with (a patient's request is routed to their own) or, before anyone has it,
those who may take it hear of it, and of a deadline coming close. Links point at the
console's case page; no clinical text is ever a parameter."""

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from gateway.models import User
from gateway.notify.enums import Template
from gateway.notify.producers import people
from gateway.notify.producers.context import Producing

URGENT = frozenset({"emergency", "urgent"})


class CaseData(BaseModel):
    """The part of a case event's data the messages need (consult's `cases/events.py`)."""

    model_config = ConfigDict(extra="ignore")

    urgency: str
    specialty: str
    due_at: datetime
    author_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    target_organization_id: uuid.UUID | None = None


def _case(produce: Producing) -> tuple[uuid.UUID, CaseData]:
    return produce.event.resource.id, CaseData.model_validate(produce.event.data)


async def _to_author(produce: Producing, template: Template) -> int:
    case_id, data = _case(produce)
    author = await people.recipient(produce.session, data.author_id)
    if author is None:  # an MIS's API client, or a person no longer active
        return 0
    params = {
        "case_id": str(case_id),
        "case_link": produce.links.case(case_id),
        "specialty": data.specialty,
    }
    return await produce.tell(author, template, params)


async def concluded(produce: Producing) -> int:
    """Each signed version, an amendment too: the author should read what changed."""
    return await _to_author(produce, Template.CASE_CONCLUSION_READY)


async def info_requested(produce: Producing) -> int:
    return await _to_author(produce, Template.CASE_INFO_REQUESTED)


async def _who_has_it(produce: Producing, data: CaseData) -> list[User]:
    """The specialist the case is with (taken, or a patient's request routed to their own
    specialist); before anyone has it, every specialist who may take it."""
    assignee = await people.recipient(produce.session, data.assignee_id)
    if assignee is not None:
        return [assignee]
    return await people.specialists(produce.session, data.target_organization_id, data.specialty)


async def submitted(produce: Producing) -> int:
    """An emergency or urgent case, to whoever may take it."""
    case_id, data = _case(produce)
    if data.urgency not in URGENT:
        return 0
    told = 0
    for specialist in await _who_has_it(produce, data):
        params = {
            "case_id": str(case_id),
            "case_link": produce.links.case(case_id),
            "urgency": data.urgency,
            "specialty": data.specialty,
            "deadline": people.utc_text(data.due_at),
            "timezone": await people.zone_of(produce.session, specialist),
        }
        told += await produce.tell(specialist, Template.CASE_NEW_URGENT, params)
    return told


async def deadline_soon(produce: Producing) -> int:
    """To the specialist who has the case; to the specialty's while nobody has taken it."""
    case_id, data = _case(produce)
    told = 0
    for specialist in await _who_has_it(produce, data):
        params = {
            "case_id": str(case_id),
            "case_link": produce.links.case(case_id),
            "deadline": people.utc_text(data.due_at),
            "timezone": await people.zone_of(produce.session, specialist),
        }
        told += await produce.tell(specialist, Template.CASE_DEADLINE_SOON, params)
    return told
