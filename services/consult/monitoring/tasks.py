"""What the monitoring operator works from: urgent tasks that worsening check-ins create, and
the day's due check-ins in the organisation's time zone."""

import uuid
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, select

from services.common.auth import Principal
from services.common.errors import Conflict, NotFound
from services.common.uow import UnitOfWork
from services.consult.monitoring.access import RESOURCE as ENROLMENT_RESOURCE
from services.consult.monitoring.access import care_team_of, record, require_care_team
from services.consult.monitoring.enums import EnrolmentStatus, EscalationKind, TaskStatus
from services.consult.monitoring.events import task_escalated
from services.consult.monitoring.models import Enrolment, Task
from services.consult.monitoring.schemas import DueCheckIn, DueList, TaskOut
from services.consult.monitoring.thresholds import Escalation
from services.consult.ports import OrganizationLookup
from services.consult.values import Urgency

# An ambulance is an emergency; a doctor's home visit is urgent, the same day.
URGENCY = {EscalationKind.AMBULANCE: Urgency.EMERGENCY, EscalationKind.HOME_VISIT: Urgency.URGENT}
SEVERITY = list(EscalationKind)
# What a task shows of its patient, read with it.
TASK_PATIENT_COLUMNS = (Enrolment.programme, Enrolment.patient_full_name, Enrolment.contact_phone)
TASK_FIELDS = [
    name for name in TaskOut.model_fields if name not in {c.key for c in TASK_PATIENT_COLUMNS}
]
MAX_LIST = 500


async def escalate(
    uow: UnitOfWork,
    enrolment: Enrolment,
    check_in_id: uuid.UUID,
    escalation: Escalation,
    now: datetime,
) -> uuid.UUID:
    """A task for the responsible organisation, unless an open one as severe already covers
    the patient: a patient who stays as bad between two calls needs one ambulance, not two."""
    open_tasks = await uow.session.scalars(
        select(Task).where(Task.enrolment_id == enrolment.id, Task.status == TaskStatus.OPEN)
    )
    wanted = SEVERITY.index(escalation.kind)
    for task in open_tasks:
        if SEVERITY.index(task.kind) >= wanted:
            record(uow, "monitoring.escalate", enrolment.id, f"covered by open task {task.id}")
            return task.id
    task = Task(
        id=uuid.uuid4(),
        enrolment_id=enrolment.id,
        check_in_id=check_in_id,
        organization_id=enrolment.organization_id,
        kind=escalation.kind,
        urgency=URGENCY[escalation.kind],
        status=TaskStatus.OPEN,
        reasons=escalation.rules,
        created_at=now,
    )
    uow.session.add(task)
    await uow.session.flush()
    detail = f"{task.kind.value} task {task.id}: {', '.join(escalation.rules)}"
    record(uow, "monitoring.escalate", enrolment.id, detail)
    await task_escalated(uow, enrolment, task)
    return task.id


def task_out(task: Task, row: Row[Any] | tuple[Any, ...]) -> TaskOut:
    """A task with the patient's name and phone, which the operator acts on."""
    fields = {name: getattr(task, name) for name in TASK_FIELDS}
    patient = dict(zip((column.key for column in TASK_PATIENT_COLUMNS), row, strict=True))
    return TaskOut.model_validate({**fields, **patient})


async def list_tasks(
    uow: UnitOfWork, principal: Principal, status: TaskStatus | None
) -> list[TaskOut]:
    """The caller's organisation's tasks, oldest first."""
    action = "monitoring.tasks"
    organization_id = require_care_team(uow, principal, action)
    query = (
        select(Task, *TASK_PATIENT_COLUMNS)
        .join(Enrolment, Enrolment.id == Task.enrolment_id)
        .where(Task.organization_id == organization_id)
    )
    if status is not None:
        query = query.where(Task.status == status)
    query = query.order_by(Task.created_at, Task.id).limit(MAX_LIST)
    rows = (await uow.session.execute(query)).all()
    record(uow, action, None, f"{len(rows)} tasks")
    return [task_out(row[0], row[1:]) for row in rows]


async def complete_task(
    uow: UnitOfWork, principal: Principal, task_id: uuid.UUID, outcome: str, now: datetime
) -> TaskOut:
    """Records what was done; only the responsible organisation's care team sees the task."""
    action = "monitoring.complete_task"
    query = (
        select(Task, *TASK_PATIENT_COLUMNS)
        .join(Enrolment, Enrolment.id == Task.enrolment_id)
        .where(Task.id == task_id)
        .with_for_update(of=Task)
    )
    row = (await uow.session.execute(query)).one_or_none()
    if row is None or care_team_of(principal) != row[0].organization_id:
        uow.audit.refuse(
            action, ENROLMENT_RESOURCE, None, NotFound("No task with this id is visible to you.")
        )
    task = row[0]
    if task.status is not TaskStatus.OPEN:
        refusal = Conflict(f"The task is {task.status.value}.", current_status=task.status.value)
        uow.audit.refuse(action, ENROLMENT_RESOURCE, task.enrolment_id, refusal)
    task.status, task.outcome = TaskStatus.DONE, outcome
    task.completed_at, task.completed_by = now, principal.subject
    await uow.session.flush()
    record(uow, action, task.enrolment_id, f"task {task.id} done")
    return task_out(task, row[1:])


async def due_today(
    uow: UnitOfWork,
    principal: Principal,
    organizations: OrganizationLookup,
    operator_id: uuid.UUID | None,
    now: datetime,
) -> DueList:
    """Check-ins due by the end of today in each patient's own time zone (the organisation's
    for a patient enrolled without one), the missed ones (overdue) first; one operator's when
    `operator_id` is given."""
    action = "monitoring.due"
    organization_id = require_care_team(uow, principal, action)
    organization = await organizations(organization_id)
    # No local day ends more than a day from now: the index reads no further than that.
    query = select(
        Enrolment.id,
        Enrolment.programme,
        Enrolment.patient_full_name,
        Enrolment.contact_phone,
        Enrolment.operator_id,
        Enrolment.next_due_at,
        Enrolment.patient_timezone,
    ).where(
        Enrolment.organization_id == organization_id,
        Enrolment.status == EnrolmentStatus.ACTIVE,
        Enrolment.next_due_at < now + timedelta(days=1),
    )
    if operator_id is not None:
        query = query.where(Enrolment.operator_id == operator_id)
    query = query.order_by(Enrolment.next_due_at, Enrolment.id).limit(MAX_LIST)
    items = []
    for enrolment_id, programme, full_name, phone, operator, due_at, zone_name in (
        await uow.session.execute(query)
    ).all():
        zone = zone_name or organization.timezone
        day = now.astimezone(ZoneInfo(zone)).date()
        if due_at >= datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(zone)):
            continue
        items.append(
            DueCheckIn(
                enrolment_id=enrolment_id,
                programme=programme,
                patient_full_name=full_name,
                contact_phone=phone,
                operator_id=operator,
                due_at=due_at,
                overdue=due_at < now,
                timezone=zone,
                day=day,
            )
        )
    today = now.astimezone(ZoneInfo(organization.timezone)).date()
    record(uow, action, None, f"{len(items)} due on {today.isoformat()}")
    return DueList(
        organization_id=organization_id, timezone=organization.timezone, day=today, items=items
    )
