"""The appeal events webhooks announce: resolved, and escalated when overdue; never who the
patient is."""

from datetime import datetime

from services.common.outbox import EventType
from services.common.uow import UnitOfWork
from services.consult.appeals.models import Appeal, Resolution
from services.consult.db import OUTBOX


async def appeal_resolved(uow: UnitOfWork, appeal: Appeal, resolution: Resolution) -> None:
    """For the organisation responsible for the appeal; the answer itself, and who did what,
    stay in the API."""
    data = {
        "status": appeal.status.value,
        "category": appeal.category.value,
        "channel": appeal.channel.value,
        "first_contact_resolution": appeal.first_contact_resolution,
        "resolved_at": appeal.resolved_at,
        "result": resolution.result.value,
        "actions": list(resolution.actions),
    }
    await OUTBOX.record(
        uow, EventType.APPEAL_RESOLVED, ("appeal", appeal.id), [appeal.organization_id], data
    )


async def appeal_escalated(uow: UnitOfWork, appeal: Appeal, now: datetime) -> None:
    """The escalation job took an overdue appeal to the head of its organisation."""
    data = {
        "escalation": "overdue_appeal",
        "status": appeal.status.value,
        "category": appeal.category.value,
        "due_at": appeal.due_at,
        "escalated_at": now,
    }
    await OUTBOX.record(
        uow, EventType.MONITORING_ESCALATED, ("appeal", appeal.id), [appeal.organization_id], data
    )
