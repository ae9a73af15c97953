"""The monitoring event webhooks announce: a worsening check-in escalated to a task; never who
the patient is."""

from services.common.outbox import EventType
from services.common.uow import UnitOfWork
from services.consult.db import OUTBOX
from services.consult.monitoring.models import Enrolment, Task


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
    resource = ("monitoring_enrolment", enrolment.id)
    await OUTBOX.record(
        uow, EventType.MONITORING_ESCALATED, resource, [enrolment.organization_id], data
    )
