"""How the home-visit screens present consult's answers: the refusals beside the fields they
are about, and the templates' labels."""

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from web.cases.api import Refusal
from web.cases.forms import FormState, refused
from web.home_visits.labels import LABELS
from web.templating import render_page

CALL_FIELDS = (
    "territory", "settlement", "street", "address", "caller_name", "patient_name", "phone",
    "reason", "urgency", "patient_id",
)  # fmt: skip
STEP_FIELDS = ("assignee_id", "note", "reason")


def _field(names: tuple[str, ...]) -> Callable[[tuple[str | int, ...]], str | None]:
    def field_of(location: tuple[str | int, ...]) -> str | None:
        name = str(location[0]) if location else ""
        return name if name in names else None

    return field_of


def refused_call(refusal: Refusal, values: dict[str, str]) -> FormState:
    return refused(refusal, values, _field(CALL_FIELDS))


def refused_step(refusal: Refusal, values: dict[str, str]) -> FormState:
    return refused(refusal, values, _field(STEP_FIELDS))


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    block: str | None = None,
) -> HTMLResponse:
    """A home-visit template, with the words for consult's codes (`labels.LABELS`)."""
    return render_page(request, name, {**LABELS, **context}, status=status, block=block)
