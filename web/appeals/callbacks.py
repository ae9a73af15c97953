"""Callbacks due now: the operator's organisation's calls, earliest first, each with one-click
outcomes (reached, no answer, busy). With htmx an outcome redraws its own row: the next
attempt's time, or failed after the last one; without JavaScript the page comes back with the
call's new state above the list."""

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from web.appeals.api import AppealsApi, AppealsApiDep
from web.appeals.labels import OUTCOMES
from web.appeals.schemas import Callback
from web.appeals.views import render
from web.cases.api import Refusal
from web.deps import SignedInDep, SignedInFormDep
from web.templating import is_htmx

router = APIRouter(include_in_schema=False)
TEMPLATE = "appeals/callbacks.html"
PAGE_SIZE = 50


def row(callback_id: uuid.UUID, result: Callback | Refusal) -> dict[str, object]:
    """A row of the list: the call as it stands, or consult's refusal of an attempt at it (a
    colleague's call, one already closed). Each outcome form carries its own key: a retried
    click is one attempt, not two."""
    callback = result if isinstance(result, Callback) else None
    refusal = result if isinstance(result, Refusal) else None
    return {
        "id": callback_id,
        "callback": callback,
        "refusal": refusal,
        "form_key": uuid.uuid4().hex,
    }


async def _page(
    request: Request,
    api: AppealsApi,
    token: str,
    *,
    updated: dict[str, object] | None = None,
    status: int = 200,
) -> Response:
    page = await api.due_callbacks(token, PAGE_SIZE)
    shown = updated["id"] if updated else None
    rows = [row(each.id, each) for each in page.items if each.id != shown]
    context = {"rows": rows, "updated": updated, "more": page.next_cursor is not None}
    return render(request, TEMPLATE, context, status=status)


@router.get("/callbacks")
async def due_callbacks(request: Request, signed_in: SignedInDep, api: AppealsApiDep) -> Response:
    return await _page(request, api, signed_in.access_token)


@router.post("/callbacks/{callback_id}/attempts")
async def record_attempt(
    request: Request, callback_id: uuid.UUID, signed_in: SignedInFormDep, api: AppealsApiDep
) -> Response:
    form = await request.form()
    outcome = str(form.get("outcome") or "")
    form_key = str(form.get("form_key") or "")[:64] or None
    token = signed_in.access_token
    if outcome not in OUTCOMES:
        outcome = ""  # consult names the outcomes it takes
    updated = row(callback_id, await api.attempt(token, callback_id, outcome, form_key))
    if is_htmx(request):  # htmx swaps only a 2xx answer: the refusal is said in the row
        return render(request, TEMPLATE, {"entry": updated}, block="row")
    refusal = updated["refusal"]
    status = refusal.status if isinstance(refusal, Refusal) else 200
    return await _page(request, api, token, updated=updated, status=status)
