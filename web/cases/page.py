"""The case page: summary, attachments, the timeline of steps and messages, the conclusion
with its signature status, and the forms of the steps the reader may take now."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from services.common.db import utcnow
from web.cases.deps import Screens, ScreensDep
from web.cases.forms import FormState, conclusion_values
from web.cases.labels import FILE_KINDS, OPEN_STATUSES
from web.cases.schemas import Case, Conclusion, Message
from web.cases.views import Deadline, render
from web.consilia.summary import case_part, without_conclusion
from web.deps import SignedIn, SignedInDep
from web.models import BrowserSession
from web.video.case_part import case_part as video_part

router = APIRouter(include_in_schema=False)
# tus chunks sent through the console's relay: within the API's body limit for anything but
# the files service's own upload routes (`max_body_size`, 1 MiB), here and at the gateway.
UPLOAD_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Event:
    """One line of the case's timeline: a step, a message, or a version of the conclusion."""

    at: datetime
    kind: str  # a step (`submitted`, ...) or a message kind (`comment`, `info_request`, ...)
    author_id: uuid.UUID | None = None
    text: str = ""
    new: bool = False


def timeline(
    case: Case,
    messages: list[Message],
    conclusions: list[Conclusion],
    reader: uuid.UUID,
    seen_at: datetime | None,
) -> list[Event]:
    """Oldest first; what others wrote since the reader's last look is marked new."""

    def new(at: datetime, author: uuid.UUID | None) -> bool:
        return seen_at is not None and at > seen_at and author != reader

    events = [Event(case.created_at, "created", case.requester_id)]
    if case.submitted_at:
        events.append(Event(case.submitted_at, "submitted", case.requester_id))
    if case.accepted_at:
        events.append(Event(case.accepted_at, "accepted", case.assignee_id))
    for message in messages:
        author = message.author_id
        fresh = new(message.created_at, author)
        events.append(Event(message.created_at, message.kind, author, message.text, fresh))
    for conclusion in conclusions:
        at, author = conclusion.issued_at, conclusion.author_id
        reason = conclusion.amendment_reason or ""
        events.append(Event(at, "conclusion", author, reason, new(at, author)))
    if case.status == "declined" and case.closed_at:
        reason = case.decline_reason or ""
        events.append(Event(case.closed_at, "declined", case.assignee_id, reason))
    if case.status == "cancelled" and case.closed_at:
        events.append(Event(case.closed_at, "cancelled", None, case.cancel_reason or ""))
    return sorted(events, key=lambda event: event.at)


def permitted(case: Case, session: BrowserSession) -> set[str]:
    """The steps the page offers the reader; the API decides (and refuses the rest)."""
    status, role, me = case.status, session.role, session.user_id
    steps: set[str] = {"comment"} if status != "draft" else set()
    if role == "district_medic":
        if status in ("draft", "info_requested"):
            steps |= {"edit", "attach"}
        if status == "draft":
            steps.add("submit")
        if status == "info_requested":
            steps.add("answer")
        if status == "draft" or status in OPEN_STATUSES:
            steps.add("cancel")
    elif role == "specialist":
        mine = case.assignee_id in (None, me)
        if status == "submitted":
            steps |= {"accept", "request_info", "decline"}
        if status == "accepted" and mine:
            steps |= {"start", "request_info", "decline"}
        if status == "in_progress" and mine:
            steps |= {"conclude", "request_info"}
        if status == "concluded" and case.assignee_id == me:
            steps.add("amend")
    return steps


async def show(
    request: Request,
    screens: Screens,
    signed_in: SignedIn,
    case_id: uuid.UUID,
    *,
    forms: dict[str, FormState] | None = None,
    status: int = 200,
    saved: str | None = None,
) -> Response:
    """The page as it stands; `forms` holds a refused step's form (its values and messages)."""
    api, session, token = screens.api, signed_in.session, signed_in.access_token
    assert session.user_id is not None  # a signed-in session's
    case = await api.case(token, case_id)  # another organisation's case: the 404 page
    messages = await api.messages(token, case_id)
    conclusions = await api.conclusions(token, case_id) if case.concluded_at else []
    view = (await screens.seen.views(session.user_id, [case_id])).get(case_id)
    seen_at = view.seen_at if view else None
    events = timeline(case, messages, conclusions, session.user_id, seen_at)
    authors = [case.requester_id, case.assignee_id, *(event.author_id for event in events)]
    context: dict[str, Any] = {
        "case": case,
        "events": events,
        "people": await screens.directory.people(api, token, authors),
        "organizations": await screens.directory.organizations(api, token),
        "conclusion": conclusions[-1] if conclusions else None,
        "conclusions": conclusions,
        "deadline": Deadline.of(case, utcnow(), request.state.language),
        "steps": permitted(case, session),
        "saved": saved,
        "file_kinds": FILE_KINDS,
        "chunk_size": min(UPLOAD_CHUNK, screens.settings.max_body_size),
        "forms": dict(forms or {}),
    }
    context |= await case_part(request, session, token, case)
    context |= await video_part(request, session, token, case)
    context["steps"] = without_conclusion(context["steps"], context)
    if "amend" in context["steps"] and conclusions and "amend" not in context["forms"]:
        context["forms"]["amend"] = FormState(values=conclusion_values(conclusions[-1]))
    response = render(request, "cases/case.html", context, status=status)
    await screens.seen.record(session.user_id, case_id, case.status, utcnow())
    return response


@router.get("/cases/{case_id}")
async def case_page(
    request: Request,
    case_id: uuid.UUID,
    signed_in: SignedInDep,
    screens: ScreensDep,
    saved: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    return await show(request, screens, signed_in, case_id, saved=saved)
