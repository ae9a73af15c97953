"""A new appeal on a live call: the caller, the call-back phone, the channel, the territory
with the organisation that will answer and by when (before saving), the topic with the answer
to read out for one the hotline does not handle, and the appeal's text. Saved, it confirms
the appeal and gives an empty form for the next caller; "Call dropped" files it with a
callback due at once."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from services.common.db import utcnow
from web.appeals.api import AppealsApi, AppealsApiDep
from web.appeals.labels import (
    CATEGORIES,
    CHANNELS,
    EXCLUDED_CATEGORY,
    EXCLUDED_PREFIX,
    EXCLUDED_TOPICS,
)
from web.appeals.schemas import Appeal
from web.appeals.views import TerritoryMaps, opening_hours, refused_form, render
from web.cases.api import Refusal
from web.cases.deps import DirectoryDep
from web.cases.forms import FormState, form_values, parse_id
from web.cases.views import Directory
from web.deps import SignedIn, SignedInDep, SignedInFormDep

router = APIRouter(include_in_schema=False)
TEMPLATE = "appeals/new.html"
FIELDS = ("contact_name", "contact_phone", "channel", "territory", "topic", "text")
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
    return body | ({"topic": topic} if topic else {})


async def _page(
    request: Request,
    api: AppealsApi,
    directory: Directory,
    signed_in: SignedIn,
    state: FormState,
    *,
    status: int = 200,
    filed: Appeal | None = None,
    dropped: bool = False,
    refusal: Refusal | None = None,
) -> Response:
    token = signed_in.access_token
    maps: TerritoryMaps = request.app.state.territory_maps
    assert signed_in.session.user_id is not None  # a signed-in session's
    territories = await maps.of(api, token, signed_in.session.user_id)
    organizations = await directory.organizations(api, token) if filed else {}
    context = {
        "form": state,
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
        # After a dropped call: its callback, scheduled due now (`_call_back`), or consult's
        # refusal of it.
        "dropped": dropped,
        "callback_refusal": refusal,
        # A form sent twice (a double Ctrl+Enter, a lost answer) files one appeal.
        "form_key": uuid.uuid4().hex,
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
    filed: Value = None,
    dropped: Value = None,
) -> Response:
    """The empty form; after filing (`filed`), with the confirmation of the appeal above it,
    and of its callback after a dropped call."""
    appeal = None
    if appeal_id := parse_id(filed):
        appeal = await api.appeal(signed_in.access_token, appeal_id)
    return await _page(
        request, api, directory, signed_in, _empty(), filed=appeal, dropped=bool(dropped)
    )


@router.post("/appeals/new")
async def file_appeal(
    request: Request,
    signed_in: SignedInFormDep,
    api: AppealsApiDep,
    directory: DirectoryDep,
) -> Response:
    form = await request.form()
    values = form_values(form, FIELDS)
    form_key = str(form.get("form_key") or "")[:64] or None
    token = signed_in.access_token
    result = await api.file_appeal(token, appeal_body(values), form_key)
    if isinstance(result, Refusal):
        state = refused_form(result, values)
        return await _page(request, api, directory, signed_in, state, status=result.status)
    if form.get("action") != "dropped":
        return RedirectResponse(f"/appeals/new?filed={result.id}", status_code=303)
    return await _call_back(request, api, directory, signed_in, result, form_key)


async def _call_back(
    request: Request,
    api: AppealsApi,
    directory: Directory,
    signed_in: SignedIn,
    appeal: Appeal,
    form_key: str | None,
) -> Response:
    """The dropped call's callback, kept for this operator and due now: they call back at
    once, knowing the conversation (consult retries it later if nobody answers)."""
    body = {"reason": "dropped_call", "due_at": utcnow().isoformat()}
    key = f"{form_key}-callback" if form_key else None
    token = signed_in.access_token
    callback = await api.schedule_callback(token, appeal.id, body, key)
    if isinstance(callback, Refusal):  # the appeal is filed; the page says why no callback
        return await _page(
            request, api, directory, signed_in, _empty(), filed=appeal, refusal=callback
        )
    return RedirectResponse(f"/appeals/new?filed={appeal.id}&dropped=1", status_code=303)


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
        token, territory or None, channel or "phone", category or "question", excluded
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
