"""`/monitoring`: today's check-ins (the missed first, each due time in the patient's own zone
and the reader's), the organisation's monitored patients, and the enrolment form (with the
register's search where the person's role may search it)."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from web.cases.api import Refusal
from web.cases.forms import FormState, form_values, parse_id, refused
from web.cases.labels import SEXES
from web.cases.schemas import RegisteredPatient
from web.deps import SignedInDep, SignedInFormDep
from web.i18n import RUSSIAN_ZONES, local_time
from web.monitoring.api import MonitoringApi, MonitoringApiDep
from web.monitoring.views import ENROL_FIELDS, enrol_field, render

router = APIRouter(include_in_schema=False)
Text = Annotated[str | None, Query(max_length=128)]
STATUS_CHOICES = ("active", "discharged", "all")


@router.get("/monitoring")
async def overview(
    request: Request, signed_in: SignedInDep, api: MonitoringApiDep, status: Text = None
) -> Response:
    token = signed_in.access_token
    language: str = request.state.language
    status = status if status in STATUS_CHOICES else "active"
    due = await api.due(token)
    enrolments = await api.enrolments(token, None if status == "all" else status)
    context = {
        "due": due,
        "due_rows": [
            {"item": item, "patient_time": local_time(item.due_at, language, item.timezone)}
            for item in due.items
        ],
        "enrolments": enrolments,
        "status": status,
        "status_choices": STATUS_CHOICES,
    }
    return render(request, "monitoring/overview.html", context)


def enrolment_body(values: dict[str, str]) -> dict[str, Any]:
    """Consult's body for the form, as typed (consult says what is wrong); optional fields
    left empty are left out."""
    body: dict[str, Any] = {
        "programme": values["programme"],
        "patient": {
            name.removeprefix("patient_"): values[name]
            for name in ENROL_FIELDS
            if name.startswith("patient_") and name not in ("patient_id", "patient_timezone")
        },
        "contact_phone": values["contact_phone"],
        "indication": values["indication"],
    }
    for name in ("patient_id", "patient_timezone", "interval_hours"):
        if values[name]:
            body[name] = values[name]
    return body


def _patient_values(patient: RegisteredPatient) -> dict[str, str]:
    """The register's patient as the enrolment's: the register's id is the reference, and the
    patient's account is named, so they see their monitoring."""
    return {
        "patient_id": str(patient.id),
        "patient_reference": str(patient.id),
        "patient_full_name": patient.full_name,
        "patient_birth_date": patient.birth_date.isoformat(),
        "patient_sex": patient.sex,
        "patient_insurance_policy": patient.policy_number or "",
    }


async def _form(
    request: Request,
    api: MonitoringApi,
    token: str,
    state: FormState,
    *,
    patient_q: str = "",
    found: list[RegisteredPatient] | None = None,
    status: int = 200,
) -> Response:
    context = {
        "form": state,
        "programmes": await api.programmes(token),
        "zones": RUSSIAN_ZONES,
        "sexes": SEXES,
        "patient_q": patient_q,
        "found": [] if found is None and not patient_q else found,
        # A form sent twice (a double click, a lost answer) enrols once.
        "form_key": uuid.uuid4().hex,
    }
    return render(request, "monitoring/enrol.html", context, status=status)


@router.get("/monitoring/enrol")
async def enrol_form(
    request: Request,
    signed_in: SignedInDep,
    api: MonitoringApiDep,
    patient_q: Text = None,
    patient: Text = None,
) -> Response:
    """The empty form; with `patient_q`, the register's patients of that name to pick from
    (None: the role may not search it); with `patient`, the form filled in with that one."""
    token = signed_in.access_token
    state = FormState(values={"programme": "", "patient_timezone": ""})
    found: list[RegisteredPatient] | None = []
    if patient_q and patient_q.strip():
        found = await api.find_patients(token, patient_q.strip())
    if (chosen := parse_id(patient)) and (record := await api.registered_patient(token, chosen)):
        state.values |= _patient_values(record)
    return await _form(request, api, token, state, patient_q=patient_q or "", found=found)


@router.post("/monitoring/enrol")
async def enrol(request: Request, signed_in: SignedInFormDep, api: MonitoringApiDep) -> Response:
    form = await request.form()
    values = form_values(form, ENROL_FIELDS)
    form_key = str(form.get("form_key") or "")[:64] or None
    token = signed_in.access_token
    result = await api.enrol(token, enrolment_body(values), form_key)
    if isinstance(result, Refusal):
        state = refused(result, values, enrol_field)
        return await _form(request, api, token, state, status=result.status)
    return RedirectResponse(f"/monitoring/{result.id}?saved=enrolled", status_code=303)
