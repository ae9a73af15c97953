"""The resolve step's form as consult's body: what was done (the actions offered for the
appeal's category, ticked, and details in words), by whom (an organisation of the region and a
person), with what result, and what the caller is told; and the codes of consult's refusals of
it that the page explains (a formulaic answer by its reason)."""

from typing import Any

from starlette.datastructures import FormData

from web.cases.api import Issue
from web.cases.forms import MAX_VALUE, form_values, issue_message

FIELDS = (
    "actions",
    "details",
    "done_by_organization_id",
    "done_by_name",
    "done_by_position",
    "result",
    "result_reason",
    "answer",
    "first_contact_resolution",
    "article_id",
)
# Consult's body locations and the form's fields; an action's own location (`actions`, its
# index) is the ticked list's.
FIELD_OF = {
    ("actions",): "actions",
    ("details",): "details",
    ("done_by", "organization_id"): "done_by_organization_id",
    ("done_by", "name"): "done_by_name",
    ("done_by", "position"): "done_by_position",
    ("result",): "result",
    ("result_reason",): "result_reason",
    ("answer",): "answer",
    ("first_contact_resolution",): "first_contact_resolution",
    ("article_id",): "article_id",
}
# Codes of refusals the page words itself (appeals/fields.html); others in consult's words.
WORDED = frozenset({"action_not_offered", "unknown_organization"})


def field_of(location: tuple[str, ...]) -> str | None:
    return FIELD_OF.get(location) or FIELD_OF.get(location[:1])


def values_of(form: FormData) -> dict[str, str]:
    """The form as typed; the ticked actions joined by spaces, as the form keeps values."""
    values = form_values(form, FIELDS)
    ticked = [value.strip() for value in form.getlist("actions") if isinstance(value, str)]
    values["actions"] = " ".join(value for value in ticked if value)[:MAX_VALUE]
    return values


def body_of(values: dict[str, str]) -> dict[str, Any]:
    """Consult's body, values as typed for consult to check; what was left empty and may be
    (details, a reason, the organisation: the responsible one by default) left out."""
    done_by = {"name": values["done_by_name"], "position": values["done_by_position"]}
    if values["done_by_organization_id"]:
        done_by["organization_id"] = values["done_by_organization_id"]
    body: dict[str, Any] = {
        "actions": values["actions"].split(),
        "done_by": done_by,
        "result": values["result"],
        "answer": values["answer"],
    }
    for optional in ("details", "result_reason", "article_id"):
        if values[optional]:
            body[optional] = values[optional]
    if choice := values["first_contact_resolution"]:
        body["first_contact_resolution"] = choice == "yes"
    return body


def message(issue: Issue, value: str) -> str:
    """The code the page explains: a formulaic answer's reason (`formulaic.<reason>`), an
    answer too short, an action or organisation consult does not take; else as any form."""
    if issue.kind.startswith("formulaic.") or issue.kind in WORDED:
        return issue.kind
    if value and issue.kind == "string_too_short":
        return "short_answer"
    return issue_message(issue, value)
