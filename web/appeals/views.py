"""How the hotline screens present consult's answers: the refusals beside the fields they are
about, an organisation's opening hours in the reader's words, and the templates' labels."""

import time
import uuid
from datetime import datetime
from typing import Any

from babel.dates import get_day_names
from fastapi import Request
from fastapi.responses import HTMLResponse

from web.appeals import resolving
from web.appeals.api import AppealsApi
from web.appeals.labels import LABELS, OPEN_STATUSES
from web.appeals.schemas import AppealSummary, OpeningHours, Territory
from web.cases.api import Refusal
from web.cases.forms import FormState, issue_message
from web.cases.views import Deadline, duration
from web.templating import render_page

# A region's territory map changes a few times a year; the live-call form reads it on every
# new caller, so each operator's map is kept this long (as the organisations' list is).
MAP_SECONDS = 60.0
# The API's body locations and the form fields they are about.
FIELD_OF = {
    ("contact", "name"): "contact_name",
    ("contact", "phone"): "contact_phone",
    ("channel",): "channel",
    ("territory",): "territory",
    ("category",): "topic",
    ("topic",): "topic",
    ("text",): "text",
    ("organization_id",): "organization_id",
    ("reason",): "reason",
}
# Consult names the phone in the detail of a refusal that has no `errors`.
PHONE_NEEDED = "`contact.phone`"
DASH = "\N{EN DASH}"  # of ranges: days, hours


def refused_form(refusal: Refusal, values: dict[str, str]) -> FormState:
    """The form again with consult's refusal beside the fields it names, the rest above."""
    state = FormState(values=values)
    unplaced = []
    for issue in refusal.errors:
        location = tuple(str(part) for part in issue.location)
        name = FIELD_OF.get(location) or resolving.field_of(location)
        if name is None:
            unplaced.append(issue.message)
            continue
        value = values.get(name, "")
        if name in resolving.FIELDS:  # the resolve step's codes, explained on its form
            message = resolving.message(issue, value)
        else:
            message = issue_message(issue, value)
        if message not in state.errors.setdefault(name, []):
            state.errors[name].append(message)
    if not refusal.errors and PHONE_NEEDED in refusal.detail:
        state.errors["contact_phone"] = ["phone_needed"]
    elif unplaced or not refusal.errors:
        state.detail = "; ".join(unplaced) or refusal.detail
    return state


def opening_hours(hours: list[OpeningHours], language: str) -> list[str]:
    """Runs of days with the same hours, as "Mon-Sat 08:00-20:00" (with en dashes)."""
    names = get_day_names("abbreviated", locale=language)
    runs: list[tuple[int, int, OpeningHours]] = []
    for entry in sorted(hours, key=lambda each: each.weekday):
        last = runs[-1] if runs else None
        if (
            last
            and last[1] == entry.weekday - 1
            and (last[2].opens, last[2].closes)
            == (
                entry.opens,
                entry.closes,
            )
        ):
            runs[-1] = (last[0], entry.weekday, last[2])
        else:
            runs.append((entry.weekday, entry.weekday, entry))
    return [
        f"{names[first]}{DASH + names[last] if last != first else ''} "
        f"{entry.opens:%H:%M}{DASH}{entry.closes:%H:%M}"
        for first, last, entry in runs
    ]


def deadline(appeal: AppealSummary, now: datetime, language: str) -> Deadline:
    """The due time as the case lists show theirs: running, time left or overdue by; overdue
    is consult's word (its clock), the time left the console's."""
    running = appeal.status in OPEN_STATUSES
    left = duration((appeal.due_at - now).total_seconds(), language)
    return Deadline(appeal.due_at, running, appeal.overdue, left)


class TerritoryMaps:
    """The territory map each operator's form offers, read once a minute per operator (the API
    answers the caller's own region's map)."""

    def __init__(self) -> None:
        self._maps: dict[uuid.UUID, tuple[float, list[Territory]]] = {}

    async def of(self, api: AppealsApi, token: str, user_id: uuid.UUID) -> list[Territory]:
        read_at, territories = self._maps.get(user_id, (float("-inf"), []))
        if time.monotonic() - read_at > MAP_SECONDS:
            territories = await api.territories(token)
            self._maps[user_id] = (time.monotonic(), territories)
        return territories


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    block: str | None = None,
) -> HTMLResponse:
    """A hotline template, with the words for consult's codes (`labels.LABELS`)."""
    return render_page(request, name, {**LABELS, **context}, status=status, block=block)
