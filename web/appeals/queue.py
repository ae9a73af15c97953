"""The appeals queue: the region's appeals by deadline (consult counts each in the responsible
organisation's working hours), so the overdue ones come first among the open; filters by
organisation and status, 20 a page, and a live refresh as the case queue has (a poll that
finds the list unchanged is answered 204, web/cases/lists.py says why)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from services.common.db import utcnow
from web.appeals.api import AppealsApi, AppealsApiDep
from web.appeals.labels import OPEN_STATUSES, STATUSES
from web.appeals.schemas import AppealPage
from web.appeals.views import deadline, render
from web.cases.deps import DirectoryDep
from web.cases.forms import parse_id
from web.cases.lists import shown_digest
from web.cases.schemas import Organization
from web.cases.views import Directory
from web.deps import SettingsDep, SignedInDep
from web.templating import is_htmx

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20
STATUS_CHOICES = ("open", "all", *STATUSES)
Text = Annotated[str | None, Query(max_length=64)]


def digest(page: AppealPage) -> str:
    shown = ("id", "status", "due_at", "organization_id", "escalated_at", "overdue")
    rows = [[str(getattr(item, name)) for name in shown] for item in page.items]
    return shown_digest(rows, page.next_cursor)


async def region_organizations(
    api: AppealsApi, directory: Directory, token: str
) -> dict[uuid.UUID, Organization]:
    """The organisations of the operator's region, by name: those an appeal may go to."""
    me = await api.me(token)
    organizations = await directory.organizations(api, token)
    own = organizations.get(me.organization_id) if me.organization_id else None
    found = [each for each in organizations.values() if own and each.region == own.region]
    return {each.id: each for each in sorted(found, key=lambda each: each.name)}


@router.get("/appeals")
async def appeal_queue(
    request: Request,
    signed_in: SignedInDep,
    api: AppealsApiDep,
    directory: DirectoryDep,
    settings: SettingsDep,
    status: Text = None,
    organization: Text = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    since: Text = None,
) -> Response:
    token = signed_in.access_token
    status = status if status in STATUS_CHOICES else "open"
    statuses = OPEN_STATUSES if status == "open" else () if status == "all" else (status,)
    organization_id = parse_id(organization)
    page = await api.appeals(
        token, statuses=statuses, organization_id=organization_id, cursor=cursor, limit=PAGE_SIZE
    )
    current = digest(page)
    if since == current and is_htmx(request):
        return Response(status_code=204)
    now = utcnow()
    language: str = request.state.language
    organizations = await directory.organizations(api, token)
    context = {
        "rows": [
            {"appeal": item, "deadline": deadline(item, now, language)} for item in page.items
        ],
        "organizations": organizations,
        "organization_choices": await region_organizations(api, directory, token),
        "filters": {"status": status, "organization": str(organization_id or "")},
        "status_choices": STATUS_CHOICES,
        "cursor": cursor,
        "next_cursor": page.next_cursor,
        "digest": current,
        "refresh_seconds": settings.queue_refresh_seconds,
        "fragment": since is not None,
    }
    return render(request, "appeals/list.html", context, block="list" if is_htmx(request) else None)
