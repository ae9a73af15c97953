"""The specialist's structured conclusion: issued (consult signs it with its Ed25519 key as it
stores it), amended as new versions, and printed as a document with its signature status."""

import re
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from services.common.errors import NotFound
from web.cases.api import Refusal
from web.cases.deps import ScreensDep
from web.cases.forms import FormState, form_values, refused
from web.cases.labels import SEXES
from web.cases.page import show
from web.cases.views import render
from web.deps import SignedInDep, SignedInFormDep

router = APIRouter(include_in_schema=False)
TEXTS = ("findings", "diagnosis_text", "diagnosis_codes", "recommendations", "recommended_tests",
         "amendment_reason")  # fmt: skip
FLAGS = ("in_person_visit_needed", "hospitalisation_needed", "confirm")
CODES = re.compile(r"[\s,;]+")


def conclusion_body(values: dict[str, str]) -> dict[str, Any]:
    content = {
        "findings": values["findings"],
        "diagnosis_text": values["diagnosis_text"],
        "diagnosis_codes": [code for code in CODES.split(values["diagnosis_codes"]) if code],
        "recommendations": values["recommendations"],
        "recommended_tests": [
            line.strip() for line in values["recommended_tests"].splitlines() if line.strip()
        ],
        "in_person_visit_needed": values["in_person_visit_needed"] == "yes",
        "hospitalisation_needed": values["hospitalisation_needed"] == "yes",
    }
    return {"content": content, "amendment_reason": values["amendment_reason"] or None}


def _field(location: tuple[str | int, ...]) -> str | None:
    """`("content", "diagnosis_codes", 0)` is the codes' field; `amendment_reason` its own."""
    if location[:1] == ("content",) and len(location) > 1:
        return str(location[1])
    return str(location[0]) if location else None


@router.post("/cases/{case_id}/conclusions")
async def issue(
    request: Request, case_id: uuid.UUID, signed_in: SignedInFormDep, screens: ScreensDep
) -> Response:
    """Issues the conclusion, or amends the last one, once the specialist confirms it: what
    they sign cannot be changed afterwards, only amended by a new version."""
    form = await request.form()
    values = form_values(form, TEXTS + FLAGS)
    step = "amend" if values["amendment_reason"] or form.get("step") == "amend" else "conclude"
    if values["confirm"] != "yes":
        state = FormState(values=values, errors={"confirm": ["confirm"]})
        return await show(request, screens, signed_in, case_id, forms={step: state}, status=422)
    key = str(form.get("form_key") or "")[:64] or None
    result = await screens.api.issue_conclusion(
        signed_in.access_token, case_id, conclusion_body(values), key
    )
    if isinstance(result, Refusal):
        state = refused(result, values, _field)
        return await show(
            request, screens, signed_in, case_id, forms={step: state}, status=result.status
        )
    return RedirectResponse(f"/cases/{case_id}?saved={step}", status_code=303)


@router.get("/cases/{case_id}/conclusion")
async def printable(
    request: Request,
    case_id: uuid.UUID,
    signed_in: SignedInDep,
    screens: ScreensDep,
    version: Annotated[int | None, Query(ge=1, le=10_000)] = None,
) -> Response:
    """The conclusion as a document to print (the print stylesheet leaves the console out)."""
    api, token = screens.api, signed_in.access_token
    case = await api.case(token, case_id)
    conclusions = await api.conclusions(token, case_id)
    chosen = [item for item in conclusions if version in (None, item.version)]
    if not chosen:
        raise NotFound("This case has no such conclusion.")
    conclusion = chosen[-1]
    people = await screens.directory.people(api, token, [conclusion.author_id, case.requester_id])
    context = {
        "case": case,
        "conclusion": conclusion,
        "versions": conclusions,
        "people": people,
        "organizations": await screens.directory.organizations(api, token),
        "sexes": SEXES,
    }
    return render(request, "cases/conclusion.html", context)
