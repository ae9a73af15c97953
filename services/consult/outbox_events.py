"""The consult events webhooks announce, recorded in the outbox with the change they announce.

Their data says what an MIS needs to act (status, urgency, deadline, specialty, ids) and never
who the patient is: subscribers read the resource through the API, which audits the read.
"""

import uuid
from datetime import datetime
from typing import Any

from services.common.outbox import EventType
from services.common.uow import UnitOfWork
from services.consult.appeal_models import Appeal
from services.consult.models import OUTBOX, Case
from services.consult.monitoring_models import Enrolment, Task


async def case_event(uow: UnitOfWork, event_type: EventType, case: Case, **extra: Any) -> None:
    """For the requesting and the addressed organisations."""
    data = {
        "status": case.status.value,
        "kind": case.kind.value,
        "urgency": case.urgency.value,
        "specialty": case.specialty,
        "due_at": case.due_at,
    }
    await OUTBOX.record(
        uow,
        event_type,
        ("case", case.id),
        [case.requesting_organization_id, case.target_organization_id],
        data | extra,
    )


async def appeal_resolved(uow: UnitOfWork, appeal: Appeal) -> None:
    """For the organisation responsible for the appeal; the answer itself stays in the API."""
    data = {
        "status": appeal.status.value,
        "category": appeal.category.value,
        "channel": appeal.channel.value,
        "first_contact_resolution": appeal.first_contact_resolution,
        "resolved_at": appeal.resolved_at,
    }
    await OUTBOX.record(
        uow, EventType.APPEAL_RESOLVED, ("appeal", appeal.id), [appeal.organization_id], data
    )


async def task_escalated(uow: UnitOfWork, enrolment: Enrolment, task: Task) -> None:
    """A worsening check-in created a home-visit or ambulance task for the responsible
    organisation; the event is about the enrolment, so one patient's escalations stay ordered."""
    data = {
        "escalation": task.kind.value,
        "urgency": task.urgency.value,
        "programme": enrolment.programme,
        "task_id": task.id,
        "check_in_id": task.check_in_id,
        "reasons": task.reasons,
    }
    await _escalated(uow, ("monitoring_enrolment", enrolment.id), enrolment.organization_id, data)


async def appeal_escalated(uow: UnitOfWork, appeal: Appeal, now: datetime) -> None:
    """The escalation job took an overdue appeal to the head of its organisation."""
    data = {
        "escalation": "overdue_appeal",
        "status": appeal.status.value,
        "category": appeal.category.value,
        "due_at": appeal.due_at,
        "escalated_at": now,
    }
    await _escalated(uow, ("appeal", appeal.id), appeal.organization_id, data)


async def _escalated(
    uow: UnitOfWork,
    resource: tuple[str, uuid.UUID],
    organization_id: uuid.UUID | None,
    data: dict[str, Any],
) -> None:
    await OUTBOX.record(uow, EventType.MONITORING_ESCALATED, resource, [organization_id], data)
