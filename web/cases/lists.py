"""The case lists: a medic's organisation's cases and a specialist's queue, by deadline, with
filters, pages, the "new" marks, and a live refresh.

The queue refreshes by htmx polling, not server-sent events. A poll that finds the list as the
page has it (`since`, a digest of the rows) is answered 204 with no body: about 0.2 KB of
headers back and some 0.5 KB of request (the cookie and a browser's headers), so a queue left
open all day at one poll every 15 s spends about 0.2 MB an hour, some 6 s of a 256 kbit/s
link; a change costs one list fragment (2.4 KB gzipped for a page of 20 cases). Server-sent
events would push the same fragment but hold a connection open through the gateway all day,
which the weak links this is for drop every few minutes (each reconnect then re-reads the list
anyway), and the console would still have to ask consult every few seconds on each person's
behalf: consult announces cases to webhooks, not to pages.
"""

import hashlib
import json
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from services.common.db import utcnow
from web.cases.deps import CasesApiDep, DirectoryDep, SeenDep
from web.cases.labels import OPEN_STATUSES, STATUSES, URGENCIES
from web.cases.schemas import CasePage
from web.cases.views import Deadline, mark, render
from web.deps import SettingsDep, SignedInDep
from web.templating import is_htmx

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20
STATUS_CHOICES = ("open", "all", *STATUSES)


def default_status(role: str | None) -> str:
    """A specialist works the open cases; a medic follows all of theirs."""
    return "open" if role == "specialist" else "all"


def shown_digest(rows: list[list[str]], next_cursor: str | None) -> str:
    """What a live list shows (its rows' shown fields and where its next page starts), hashed:
    equal digests, nothing to redraw."""
    return hashlib.sha256(json.dumps([rows, next_cursor]).encode()).hexdigest()[:16]


def digest(page: CasePage) -> str:
    rows = [
        [str(case.id), case.status, case.urgency, case.due_at.isoformat(), str(case.assignee_id)]
        for case in page.items
    ]
    return shown_digest(rows, page.next_cursor)


@router.get("/cases")
async def case_list(
    request: Request,
    signed_in: SignedInDep,
    api: CasesApiDep,
    seen: SeenDep,
    directory: DirectoryDep,
    settings: SettingsDep,
    status: Annotated[str | None, Query(max_length=32)] = None,
    urgency: Annotated[str | None, Query(max_length=16)] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    since: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    session, token = signed_in.session, signed_in.access_token
    role = session.role
    status = status if status in STATUS_CHOICES else default_status(role)
    urgency = urgency if urgency in URGENCIES else ""
    statuses = OPEN_STATUSES if status == "open" else () if status == "all" else (status,)
    page = await api.cases(
        token,
        statuses=statuses,
        urgencies=(urgency,) if urgency else (),
        cursor=cursor,
        limit=PAGE_SIZE,
    )
    current = digest(page)
    if since == current and is_htmx(request):
        return Response(status_code=204)
    assert session.user_id is not None  # a signed-in session's
    views = await seen.views(session.user_id, [case.id for case in page.items])
    organizations = await directory.organizations(api, token)
    now = utcnow()
    language: str = request.state.language
    rows = [
        {
            "case": case,
            "deadline": Deadline.of(case, now, language),
            "mark": mark(case, views.get(case.id), role),
        }
        for case in page.items
    ]
    context = {
        "rows": rows,
        "organizations": organizations,
        "filters": {"status": status, "urgency": urgency},
        # Specialists never see drafts; a medic's drafts are theirs alone.
        "status_choices": [
            choice for choice in STATUS_CHOICES if role != "specialist" or choice != "draft"
        ],
        "cursor": cursor,
        "next_cursor": page.next_cursor,
        "digest": current,
        "refresh_seconds": settings.queue_refresh_seconds,
        "fragment": since is not None,
        "now": now,
    }
    block = "list" if is_htmx(request) else None
    return render(request, "cases/list.html", context, block=block)
