"""How the consilium screens present what consult answers: the words for its codes, and the
picker of whom to invite (specialties, named colleagues, whose specialists)."""

import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from web.cases.labels import SPECIALTIES
from web.cases.schemas import Organization
from web.cases.views import render as render_case
from web.consilia.api import ConsiliaApi
from web.consilia.labels import LABELS


def render(
    request: Request, name: str, context: dict[str, Any], *, status: int = 200
) -> HTMLResponse:
    """A consilium template, with the words for the case's and the consilium's codes."""
    return render_case(request, name, {**LABELS, **context}, status=status)


async def picker(
    api: ConsiliaApi,
    token: str,
    me: uuid.UUID,
    organizations: dict[uuid.UUID, Organization],
) -> dict[str, Any]:
    """What the invitation form offers: the specialists of the reader's region the directory
    lists to them (not the reader, who chairs), and specialties: those the console names and
    those the listed specialists have."""
    listed = await api.colleagues(token) or []
    colleagues = [person for person in listed if person.is_active and person.id != me]
    codes = set(SPECIALTIES) | {person.specialty for person in colleagues if person.specialty}
    return {
        "colleagues": sorted(
            colleagues, key=lambda person: (person.specialty or "", person.full_name)
        ),
        "specialty_codes": sorted(codes),
        "organizations": organizations,
    }
