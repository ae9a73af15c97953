"""The steps taken from the case page: submitting, accepting, starting, asking the medic for
information and answering it, declining, cancelling, and writing in the thread. Each is a
plain form (post, then back to the page); a refusal is said beside the step's form."""

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from web.cases.api import Refusal
from web.cases.deps import Screens, ScreensDep
from web.cases.forms import form_values, refused
from web.cases.page import show
from web.deps import SignedIn, SignedInFormDep

router = APIRouter(include_in_schema=False)
# Each step's path: the API's action (None: a message in the thread) and its form's one text
# field, if any.
STEPS: dict[str, tuple[str | None, str | None]] = {
    "submit": ("submit", None),
    "accept": ("accept", None),
    "start": ("start", None),
    "request-info": ("request-info", "message"),
    "answer": ("provide-info", "message"),
    "decline": ("decline", "reason"),
    "cancel": ("cancel", "reason"),
    "messages": (None, "text"),
}


def _first(location: tuple[str | int, ...]) -> str | None:
    return str(location[0]) if location else None


def _body(action: str, field: str | None, value: str) -> dict[str, Any] | None:
    """The step's body: its text where it has one (an empty one the API refuses, saying so),
    but no body for a cancel without a reason, which may go without."""
    if field is None or (action == "cancel" and not value):
        return None
    return {field: value}


async def take_step(
    request: Request, case_id: uuid.UUID, step: str, signed_in: SignedIn, screens: Screens
) -> Response:
    action, field = STEPS[step]
    form = await request.form()
    values = form_values(form, (field,)) if field else {}
    value = values.get(field or "", "")
    token = signed_in.access_token
    result: Any
    if action is None:
        result = await screens.api.post_message(token, case_id, value)
    else:
        result = await screens.api.act(token, case_id, action, _body(action, field, value))
    if isinstance(result, Refusal):
        state = refused(result, values, _first)
        return await show(
            request, screens, signed_in, case_id, forms={step: state}, status=result.status
        )
    return RedirectResponse(f"/cases/{case_id}?saved={step}", status_code=303)


def _route(step: str) -> None:
    async def endpoint(
        request: Request, case_id: uuid.UUID, signed_in: SignedInFormDep, screens: ScreensDep
    ) -> Response:
        return await take_step(request, case_id, step, signed_in, screens)

    router.add_api_route(f"/cases/{{case_id}}/{step}", endpoint, methods=["POST"])


for _step in STEPS:
    _route(_step)
