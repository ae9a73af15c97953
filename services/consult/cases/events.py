"""The case events webhooks announce, recorded in the outbox with the change they announce.

Their data says what an MIS needs to act (status, urgency, deadline, specialty, ids) and never
who the patient is: subscribers read the resource through the API, which audits the read. The
ids of the people the case is between (its author, the assigned specialist) and the addressed
organisation let the gateway tell them.
"""

from typing import Any

from services.common.outbox import EventType
from services.common.uow import UnitOfWork
from services.consult.cases.models import Case
from services.consult.db import OUTBOX


async def case_event(uow: UnitOfWork, event_type: EventType, case: Case, **extra: Any) -> None:
    """For the requesting and the addressed organisations."""
    data = {
        "status": case.status.value,
        "kind": case.kind.value,
        "urgency": case.urgency.value,
        "specialty": case.specialty,
        "due_at": case.due_at,
        "author_id": case.requester_id,
        "assignee_id": case.assignee_id,
        "target_organization_id": case.target_organization_id,
    }
    await OUTBOX.record(
        uow,
        event_type,
        ("case", case.id),
        [case.requesting_organization_id, case.target_organization_id],
        data | extra,
    )
