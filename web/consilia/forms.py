"""The consilium's forms as consult's bodies: whom to invite, an opinion, the chair's
protocol; and where consult's refusals go back on the form."""

from typing import Any

from starlette.datastructures import FormData

from web.cases.conclusions import CODES, conclusion_body
from web.cases.conclusions import TEXTS as CONCLUSION_TEXTS
from web.cases.forms import MAX_VALUE, form_values

# The pickers of the invitation form: specialties, named specialists, and whose specialists
# a specialty invitation is for (the chair's organisation when left as it is).
SPECIALTY, INVITEE, ORGANIZATION = "specialty", "invitee", "organization_id"
OPINION_FIELDS = {
    "assessment": "assessment",
    "diagnosis_codes": "opinion_codes",
    "recommendations": "opinion_recommendations",
}
PROTOCOL_TEXTS = tuple(name for name in CONCLUSION_TEXTS if name != "amendment_reason")
PROTOCOL_FLAGS = ("in_person_visit_needed", "hospitalisation_needed", "close_unanswered")


def _chosen(form: FormData, name: str) -> list[str]:
    return [value[:MAX_VALUE] for value in form.getlist(name) if isinstance(value, str) and value]


def invitation_values(form: FormData) -> dict[str, str]:
    """The form as typed: a picker's choices one per line, to be ticked again on a refusal."""
    values = form_values(form, ("agenda", ORGANIZATION))
    values[SPECIALTY] = "\n".join(_chosen(form, SPECIALTY))
    values[INVITEE] = "\n".join(_chosen(form, INVITEE))
    return values


def invitations(values: dict[str, str]) -> list[dict[str, Any]]:
    """Consult's invitations: each named specialist, then each specialty of the organisation
    chosen; none at all is consult's to refuse."""
    wanted: list[dict[str, Any]] = [
        {"user_id": user_id} for user_id in values[INVITEE].splitlines()
    ]
    for specialty in values[SPECIALTY].splitlines():
        wanted.append({"specialty": specialty, ORGANIZATION: values[ORGANIZATION] or None})
    return wanted


def invitation_field(location: tuple[str | int, ...]) -> str | None:
    """Anything about `invitations` goes beside the pickers; the agenda is its own field."""
    return str(location[0]) if location and location[0] in ("agenda", "invitations") else None


def opinion_body(values: dict[str, str]) -> dict[str, Any]:
    codes = [code for code in CODES.split(values["opinion_codes"]) if code]
    return {
        "content": {
            "assessment": values["assessment"],
            "diagnosis_codes": codes,
            "recommendations": values["opinion_recommendations"],
        }
    }


def opinion_field(location: tuple[str | int, ...]) -> str | None:
    if location[:1] == ("content",) and len(location) > 1:
        return OPINION_FIELDS.get(str(location[1]))
    return None


def protocol_body(values: dict[str, str]) -> dict[str, Any]:
    decision = conclusion_body({**values, "amendment_reason": ""})["content"]
    return {"decision": decision, "close_unanswered": values["close_unanswered"] == "yes"}


def protocol_field(location: tuple[str | int, ...]) -> str | None:
    if location[:1] == ("decision",) and len(location) > 1:
        return str(location[1])
    return None
