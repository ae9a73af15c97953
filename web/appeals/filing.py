"""A new appeal on a live call: the PBX call it is made on (the hotline's recent calls no appeal
has yet), the caller, the call-back phone, the channel, the territory with the organisation
that will answer and by when (before saving), the topic with the answer to read out for one
the hotline does not handle, and the appeal's text. Saved, it confirms the appeal and gives an
empty form for the next caller; "Call dropped" files it with a callback due at once."""

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from services.common.db import utcnow
from web.appeals.api import AppealsApi, AppealsApiDep
from web.appeals.labels import (
    CATEGORIES,
    CHANNELS,
    EXCLUDED_CATEGORY,
    EXCLUDED_PREFIX,
    EXCLUDED_TOPICS,
)
from web.appeals.schemas import Call, FiledAppeal
from web.appeals.views import TerritoryMaps, opening_hours, refused_form, render
from web.cases.api import Refusal
from web.cases.deps import DirectoryDep
from web.cases.forms import FormState, form_values
from web.cases.views import Directory
from web.deps import SignedIn, SignedInDep, SignedInFormDep

router = APIRouter(include_in_schema=False)
TEMPLATE = "appeals/new.html"
FIELDS = ("call_id", "contact_name", "contact_phone", "channel", "territory", "topic", "text")
Value = Annotated[str | None, Query(max_length=64)]


def split_topic(topic: str) -> tuple[str, str | None]:
    """The form's one topic as consult's category and excluded topic."""
    if topic.startswith(EXCLUDED_PREFIX):
        return EXCLUDED_CATEGORY, topic.removeprefix(EXCLUDED_PREFIX)
    return topic, None


def appeal_body(values: dict[str, str]) -> dict[str, Any]:
    """Consult's body for the form, as typed: consult says what is wrong with it."""
    category, topic = split_topic(values["topic"])
    contact = {"name": values["contact_name"]}
    if values["contact_phone"]:
        contact["phone"] = values["contact_phone"]
    body = {
        "channel": values["channel"],
        "category": category,
        "territory": values["territory"],
        "contact": contact,
        "text": values["text"],
    }
    body |= {"call_id": values["call_id"]} if values["call_id"] else {}
    return body | ({"topic": topic} if topic else {})


async def _page(
    request: Request,
    api: AppealsApi,
    directory: Directory,
    signed_in: SignedIn,
    state: FormState,
    *,
    status: int = 200,
    filed: FiledAppeal | None = None,
    called: Call | None = None,
) -> Response:
    """The form; `called`, a call the operator came from (a callback's), is offered even if it
    is older than the hotline's recent calls."""
    token = signed_in.access_token
    maps: TerritoryMaps = request.app.state.territory_maps
    assert signed_in.session.user_id is not None  # a signed-in session's
    territories = await maps.of(api, token, signed_in.session.user_id)
    organizations = await directory.organizations(api, token) if filed else {}
    calls = await api.unlinked_calls(token)
    if called is not None and called.id not in {call.id for call in calls}:
        calls.insert(0, called)
    context = {
        "form": state,
        "calls": calls,
        "territories": territories,
        "channel_choices": CHANNELS,
        "topic_choices": CATEGORIES,
        "excluded_choices": {
            EXCLUDED_PREFIX + code: text for code, text in EXCLUDED_TOPICS.items()
        },
        "filed": filed,
        "filed_organization": (
            organizations.get(filed.organization_id) if filed and filed.organization_id else None
        ),
        # A form sent twice (a double Ctrl+Enter, a lost answer, a reload of the answer) files
        # one appeal.
        "form_key": uuid.uuid4().hex,
        "opened_at": utcnow().isoformat(),
        "preview": None,
        "fragment": False,
    }
    return render(request, TEMPLATE, context, status=status)


def _empty() -> FormState:
    return FormState(values={"channel": "phone"})


@router.get("/appeals/new")
async def new_appeal(
    request: Request,
    signed_in: SignedInDep,
    api: AppealsApiDep,
    directory: DirectoryDep,
    call: uuid.UUID | None = None,
) -> Response:
    """The empty form for the first caller (after each appeal the filing answers with the next
    empty form itself); with `call` (from a dropped call's callback), on that call, to the
    caller's number."""
    state = _empty()
    called = await api.pbx_call(signed_in.access_token, call) if call else None
    if called is not None and called.appeal_id is None:
        state.values |= {"call_id": str(called.id), "contact_phone": called.caller or ""}
    else:
        called = None
    return await _page(request, api, directory, signed_in, state, called=called)


@router.post("/appeals/new")
async def file_appeal(
    request: Request,
    signed_in: SignedInFormDep,
    api: AppealsApiDep,
    directory: DirectoryDep,
) -> Response:
    """Files the appeal (a dropped call with its callback, in the same request) and answers at
    once with its confirmation above the next empty form: no redirect to follow. A reload
    sends the same form again, which consult answers from the form's `Idempotency-Key` with
    the same appeal and callback: nothing is filed twice."""
    form = await request.form()
    values = form_values(form, FIELDS)
    form_key = str(form.get("form_key") or "")[:64] or None
    # The caller is answered in the operator's language: a Russian desk, a Russian answer.
    body = appeal_body(values) | {"language": request.state.language}
    if form.get("action") == "dropped":
        # Kept for this operator, who knows the conversation, and due at once (consult retries
        # it later if nobody answers): due from when the form was given, which a reload sends
        # again, so its request is the same one.
        due_at = form_time(form.get("opened_at"))
        body["callback"] = {"reason": "dropped_call", "due_at": due_at.isoformat()}
    result = await api.file_appeal(signed_in.access_token, body, form_key)
    if isinstance(result, Refusal):
        state = refused_form(result, values)
        return await _page(request, api, directory, signed_in, state, status=result.status)
    return await _page(request, api, directory, signed_in, _empty(), filed=result)


def form_time(value: object) -> datetime:
    """The form's `opened_at`, or now for a form without a readable one."""
    try:
        given = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        given = None
    return given if given is not None and given.tzinfo is not None else utcnow()


@router.get("/appeals/new/preview")
async def preview(
    request: Request,
    signed_in: SignedInDep,
    api: AppealsApiDep,
    directory: DirectoryDep,
    territory: Value = None,
    channel: Value = None,
    topic: Value = None,
) -> Response:
    """Who will answer the territory and by when, and the answer to read out for an excluded
    topic: htmx swaps it in beside the territory as the form changes."""
    token = signed_in.access_token
    category, excluded = split_topic(topic or "")
    found = await api.preview(
        token,
        territory or None,
        channel or "phone",
        category or "question",
        excluded,
        request.state.language,
    )
    hours: list[str] = []
    organization = None
    if found and found.organization_id:
        organization = await api.organization_hours(token, found.organization_id)
        hours = opening_hours(organization.working_hours, request.state.language)
    starts = found.clock_starts_at if found else None
    context = {
        "preview": found,
        "organization": organization,
        "hours": hours,
        "after_hours": starts is not None and starts > utcnow(),
        "answer": found.answer if found else None,
        "fragment": True,
    }
    return render(request, TEMPLATE, context, block="preview")
