"""`/home-visits`: a polyclinic's home-visit list for a day of its own zone (today by
default), urgent calls first, each with who goes, sending someone and marking it done on the
row; and its figures over a range at `/home-visits/figures`."""

import uuid
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from services.common.times import within_years
from web.cases.deps import DirectoryDep
from web.cases.forms import parse_id
from web.deps import SignedInDep
from web.home_visits.api import HomeVisitsApiDep
from web.home_visits.views import render

router = APIRouter(include_in_schema=False)
VISITING = ("polyclinic", "district_hospital", "regional_centre")
Value = Annotated[str | None, Query(max_length=64)]
FIGURE_DAYS = 14


def parse_day(value: str | None) -> date | None:
    """A day from the address, or None for none or one not a day telemed computes with (a
    year 1 would overflow two weeks back, and the API refuses it anyway)."""
    try:
        return within_years(date.fromisoformat(value)) if value else None
    except ValueError:
        return None


@router.get("/home-visits")
async def day_list(
    request: Request,
    signed_in: SignedInDep,
    api: HomeVisitsApiDep,
    directory: DirectoryDep,
    organization_id: Value = None,
    day: Value = None,
) -> Response:
    token = signed_in.access_token
    organizations = await directory.organizations(api, token)
    chosen: uuid.UUID | None = parse_id(organization_id)
    found = await api.day(token, chosen, parse_day(day))
    polyclinics = sorted(
        (o for o in organizations.values() if o.kind in VISITING), key=lambda o: o.name
    )
    visit_day = found.visit_day if found else None
    # Whom the list's polyclinic may send, for its coordinator to choose on each row; nobody
    # for those the directory lists no staff to (the rows then offer no choice).
    staff = await api.staff(token, found.organization_id) if found and found.items else []
    context = {
        "found": found,
        "staff": staff,
        "polyclinics": polyclinics,
        "polyclinic": organizations.get(found.organization_id) if found else None,
        "chosen": chosen,
        "previous_day": visit_day - timedelta(days=1) if visit_day else None,
        "next_day": visit_day + timedelta(days=1) if visit_day else None,
    }
    return render(request, "home_visits/day.html", context)


@router.get("/home-visits/figures")
async def figures(
    request: Request,
    signed_in: SignedInDep,
    api: HomeVisitsApiDep,
    directory: DirectoryDep,
    organization_id: Value = None,
    to: Value = None,
) -> Response:
    """The last two weeks up to `to` (today by default) of the chosen polyclinic."""
    token = signed_in.access_token
    organizations = await directory.organizations(api, token)
    chosen = parse_id(organization_id)
    found = await api.day(token, chosen, None)  # its today, and whether the reader sees it
    shown = None
    if found is not None:
        last = parse_day(to) or found.visit_day
        first = last - timedelta(days=FIGURE_DAYS - 1)
        shown = await api.figures(token, found.organization_id, first, last)
    polyclinics = sorted(
        (o for o in organizations.values() if o.kind in VISITING), key=lambda o: o.name
    )
    context = {
        "figures": shown,
        "polyclinics": polyclinics,
        "polyclinic": organizations.get(shown.organization_id) if shown else None,
        "chosen": chosen,
    }
    return render(request, "home_visits/figures.html", context)
