"""A monitored patient's page: the enrolment, the check-in form (the programme's questions,
each vital sign's thresholds said beside it), every check-in with its values against those
thresholds (out of range said in words) and what it arranged, and discharge. Each step is a
plain form (post, then back to the page); consult's refusal is said beside the step's form."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from web.cases.api import Refusal
from web.cases.forms import FormState, form_values, parse_id, refused
from web.deps import SignedInDep, SignedInFormDep
from web.monitoring.api import MonitoringApi, MonitoringApiDep
from web.monitoring.labels import VITALS
from web.monitoring.views import (
    CHECK_IN_FIELDS,
    alarming_symptoms,
    check_in_field,
    readings,
    render,
    thresholds,
)

router = APIRouter(include_in_schema=False)
DISCHARGE_FIELDS = ("reason", "note")
Text = Annotated[str | None, Query(max_length=64)]


async def show(
    request: Request,
    api: MonitoringApi,
    token: str,
    enrolment_id: uuid.UUID,
    *,
    forms: dict[str, FormState] | None = None,
    status: int = 200,
    saved: str | None = None,
    recorded: uuid.UUID | None = None,
) -> Response:
    """The page as it stands; `forms` holds a refused step's form (its values and messages);
    `recorded`, the check-in just made, shown first with what it arranged."""
    enrolment = await api.enrolment(token, enrolment_id)  # not the organisation's: the 404 page
    check_ins = await api.check_ins(token, enrolment_id)
    programme = next(
        (each for each in await api.programmes(token) if each.key == enrolment.programme), None
    )
    forms = forms or {}
    context = {
        "enrolment": enrolment,
        "programme": programme,
        "history": [
            {"check_in": entry, "readings": readings(entry, programme)} for entry in check_ins
        ],
        "recorded": recorded,
        "alarming": alarming_symptoms(programme),
        "thresholds": thresholds(programme) if programme else {},
        "check_in_form": forms.get("check_in") or FormState(values={"wellbeing": "same"}),
        "discharge_form": forms.get("discharge") or FormState(),
        "chosen_symptoms": set(
            (forms.get("check_in") or FormState()).values.get("symptoms", "").split()
        ),
        "saved": saved,
        "form_key": uuid.uuid4().hex,
    }
    return render(request, "monitoring/patient.html", context, status=status)


@router.get("/monitoring/{enrolment_id}")
async def patient_page(
    request: Request,
    enrolment_id: uuid.UUID,
    signed_in: SignedInDep,
    api: MonitoringApiDep,
    saved: Text = None,
    recorded: Text = None,
) -> Response:
    token = signed_in.access_token
    return await show(request, api, token, enrolment_id, saved=saved, recorded=parse_id(recorded))


def check_in_body(values: dict[str, str], symptoms: list[str]) -> dict[str, Any]:
    """Consult's body for the form, as typed: the vital signs filled in, the symptoms ticked."""
    return {
        "vital_signs": {name: values[name] for name in VITALS if values[name]},
        "symptoms": symptoms,
        "wellbeing": values["wellbeing"],
        "note": values["note"],
    }


@router.post("/monitoring/{enrolment_id}/check-ins")
async def record_check_in(
    request: Request, enrolment_id: uuid.UUID, signed_in: SignedInFormDep, api: MonitoringApiDep
) -> Response:
    form = await request.form()
    values = form_values(form, CHECK_IN_FIELDS)
    symptoms = [str(each)[:64] for each in form.getlist("symptoms")][:30]
    form_key = str(form.get("form_key") or "")[:64] or None
    token = signed_in.access_token
    result = await api.check_in(token, enrolment_id, check_in_body(values, symptoms), form_key)
    if isinstance(result, Refusal):
        state = refused(result, values | {"symptoms": " ".join(symptoms)}, check_in_field)
        forms = {"check_in": state}
        return await show(request, api, token, enrolment_id, forms=forms, status=result.status)
    return RedirectResponse(
        f"/monitoring/{enrolment_id}?recorded={result.id}#check-in-{result.id}", status_code=303
    )


@router.post("/monitoring/{enrolment_id}/discharge")
async def discharge(
    request: Request, enrolment_id: uuid.UUID, signed_in: SignedInFormDep, api: MonitoringApiDep
) -> Response:
    values = form_values(await request.form(), DISCHARGE_FIELDS)
    body: dict[str, Any] = {"reason": values["reason"]} | (
        {"note": values["note"]} if values["note"] else {}
    )
    token = signed_in.access_token
    result = await api.discharge(token, enrolment_id, body)
    if isinstance(result, Refusal):
        state = refused(result, values, lambda location: str(location[0]) if location else None)
        forms = {"discharge": state}
        return await show(request, api, token, enrolment_id, forms=forms, status=result.status)
    return RedirectResponse(f"/monitoring/{enrolment_id}?saved=discharged", status_code=303)
