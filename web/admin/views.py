"""Rendering the administrator's screens with the words for the API's codes, and reading their
forms."""

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData

from web.admin.labels import LABELS
from web.cases.forms import MAX_VALUE
from web.templating import render_page

# The longest form key kept (a uuid4 hex is 32 characters).
KEY_LENGTH = 64


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    block: str | None = None,
) -> HTMLResponse:
    return render_page(request, name, {**LABELS, **context}, status=status, block=block)


def form_key(form: FormData) -> str | None:
    """The form's own key: a retry of the same form (a double click, a lost answer) is the
    API's idempotent retry, not a second organisation, person or client."""
    return str(form.get("form_key") or "")[:KEY_LENGTH] or None


def chosen(form: FormData, name: str) -> list[str]:
    """The values of a group of checkboxes, as sent."""
    return [value[:MAX_VALUE] for value in form.getlist(name) if isinstance(value, str)]
