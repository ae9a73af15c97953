"""`/monitoring/tasks`: the escalations worsening check-ins raised for the organisation, home
visits and ambulance calls, those still to arrange first (the most urgent kind, then the
oldest), each with its patient, phone and reasons, and "record what was done"."""

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from web.cases.api import Refusal
from web.cases.forms import FormState, form_values, refused
from web.deps import SignedInDep, SignedInFormDep
from web.monitoring.api import MonitoringApi, MonitoringApiDep
from web.monitoring.schemas import Task
from web.monitoring.views import render

router = APIRouter(include_in_schema=False)
# Open first, an ambulance before a home visit, then the oldest.
KIND_ORDER = {"ambulance": 0, "home_visit": 1}


def ordered(tasks: list[Task]) -> list[Task]:
    return sorted(
        tasks,
        key=lambda task: (task.status != "open", KIND_ORDER.get(task.kind, 2), task.created_at),
    )


async def _page(
    request: Request,
    api: MonitoringApi,
    token: str,
    *,
    forms: dict[uuid.UUID, FormState] | None = None,
    status: int = 200,
    done: str | None = None,
) -> Response:
    tasks = ordered(await api.tasks(token))
    context = {"tasks": tasks, "forms": forms or {}, "done": done}
    return render(request, "monitoring/tasks.html", context, status=status)


@router.get("/monitoring/tasks")
async def task_list(
    request: Request, signed_in: SignedInDep, api: MonitoringApiDep, done: str | None = None
) -> Response:
    return await _page(request, api, signed_in.access_token, done=(done or "")[:64] or None)


@router.post("/monitoring/tasks/{task_id}/complete")
async def complete(
    request: Request, task_id: uuid.UUID, signed_in: SignedInFormDep, api: MonitoringApiDep
) -> Response:
    values = form_values(await request.form(), ("outcome",))
    token = signed_in.access_token
    result = await api.complete_task(token, task_id, values["outcome"])
    if isinstance(result, Refusal):
        state = refused(result, values, lambda location: "outcome" if location else None)
        return await _page(request, api, token, forms={task_id: state}, status=result.status)
    return RedirectResponse(f"/monitoring/tasks?done={task_id}", status_code=303)
