"""How the case screens present what the API answers: time to a deadline in the reader's
words, the "new" marks, and the names of organisations and people."""

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from babel.units import format_unit
from fastapi import Request
from fastapi.responses import HTMLResponse

from web.cases.api import CasesApi
from web.cases.labels import ANSWERS, LABELS, OPEN_STATUSES
from web.cases.models import CaseView
from web.cases.schemas import CaseSummary, Organization, Person
from web.templating import render_page

# Organisations change rarely and every signed-in person may read them: one list per process,
# read again after this long, saves a directory call on every page.
ORGANIZATIONS_SECONDS = 60.0
MINUTE, HOUR, DAY = 60, 3600, 86400


def duration(seconds: float, language: str) -> str:
    """At most two units, largest first, as the language abbreviates them: "3 ч 20 мин"."""
    total = max(int(abs(seconds)) // MINUTE * MINUTE, MINUTE)
    days, rest = divmod(total, DAY)
    hours, rest = divmod(rest, HOUR)
    minutes = rest // MINUTE
    parts = [
        (days, "duration-day"),
        (hours, "duration-hour"),
        (minutes, "duration-minute"),
    ]
    shown = [(value, unit) for value, unit in parts if value][:2]
    return " ".join(
        format_unit(value, unit, length="short", locale=language) for value, unit in shown
    )


@dataclass(frozen=True)
class Deadline:
    """A case's due time as a list shows it: still running, how long is left or how long it is
    overdue."""

    due_at: datetime
    running: bool
    overdue: bool
    left: str

    @classmethod
    def of(cls, case: CaseSummary, now: datetime, language: str) -> "Deadline":
        running = case.status in OPEN_STATUSES
        seconds = (case.due_at - now).total_seconds()
        return cls(case.due_at, running, running and seconds < 0, duration(seconds, language))


def mark(case: CaseSummary, view: CaseView | None, role: str | None) -> str | None:
    """What a list marks on a case: `answer` (a medic's case the specialist answered since the
    medic last opened it), `new` (a specialist's case not opened yet), `updated` (back with the
    specialist in another state, the medic having answered), or None."""
    if view is not None and view.status == case.status:
        return None
    if role == "district_medic":
        return "answer" if case.status in ANSWERS else None
    if role == "specialist" and case.status in OPEN_STATUSES and case.status != "info_requested":
        return "new" if view is None else "updated"
    return None


class Directory:
    """Names for the ids the API answers with: organisations from one list kept a minute per
    process, people looked up once per page."""

    def __init__(self) -> None:
        self._organizations: dict[uuid.UUID, Organization] = {}
        self._read_at = float("-inf")

    async def organizations(self, api: CasesApi, token: str) -> dict[uuid.UUID, Organization]:
        if time.monotonic() - self._read_at > ORGANIZATIONS_SECONDS:
            found = await api.organizations(token)
            self._organizations = {organization.id: organization for organization in found}
            self._read_at = time.monotonic()
        return self._organizations

    @staticmethod
    async def people(
        api: CasesApi, token: str, ids: Iterable[uuid.UUID | None]
    ) -> dict[uuid.UUID, Person]:
        """Those of `ids` the directory shows the reader; the others are left out (a page
        then names them by role)."""
        found: dict[uuid.UUID, Person] = {}
        for user_id in dict.fromkeys(ids):
            if user_id is not None and (person := await api.person(token, user_id)):
                found[user_id] = person
        return found


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    block: str | None = None,
) -> HTMLResponse:
    """A case template, with the words for the API's codes (`labels.LABELS`)."""
    return render_page(request, name, {**LABELS, **context}, status=status, block=block)
