"""How the registry screens present visits: the time in the specialist's zone (and the
reader's where it differs), the steps the visit's status still allows, and the page's words."""

import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from web.registry.labels import REGISTRY_LABELS
from web.registry.schemas import Appointment
from web.registry.week import day_title, two_zones
from web.templating import render_page

# The steps a registry offers per status, as scheduling's transition table allows them to
# those who book for the patient (the API decides, and its refusal is shown).
CHECK_IN = frozenset({"booked"})
MOVABLE = frozenset({"proposed", "booked", "checked_in"})
INVITED = frozenset({"booked", "checked_in", "arrived"})
PATIENT_VISITS = frozenset({"in_person", "remote"})


@dataclass(frozen=True)
class Visit:
    appointment: Appointment
    day: str
    time: str
    steps: frozenset[str]

    @property
    def id(self) -> uuid.UUID:
        return self.appointment.id


def visit_steps(appointment: Appointment) -> frozenset[str]:
    status, steps = appointment.status, set()
    if status in CHECK_IN:
        steps.add("check-in")
    if status in MOVABLE:
        steps |= {"cancel", "reschedule"}
    if status in INVITED and appointment.visit_type in PATIENT_VISITS:
        steps.add("resend")
    return frozenset(steps)


def visit(appointment: Appointment, reader_zone: str | None, language: str) -> Visit:
    zone = appointment.local.timezone
    local = appointment.local.start
    return Visit(
        appointment,
        day_title(local.date(), language),
        two_zones(appointment.start, zone, reader_zone, language),
        visit_steps(appointment),
    )


def render(
    request: Request, name: str, context: dict[str, Any], *, status: int = 200
) -> HTMLResponse:
    """A registry or schedule template, with the words for the API's codes."""
    return render_page(request, name, {**REGISTRY_LABELS, **context}, status=status)
