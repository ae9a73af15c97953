"""The patient's questions to the specialist who saw them in person: their list, a question with
its answer (the conclusion, or the follow-up visit booked), and the form to ask a new one with
photos from the phone. Consult decides who may ask what; its refusals are said on the form."""

import uuid
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from services.common.db import utcnow
from web.cases.api import Refusal
from web.cases.forms import FormState, form_values, refused
from web.deps import SignedIn, SignedInDep, SignedInFormDep
from web.i18n import local_time
from web.patients.api import NotEligible, PatientApi, PatientApiDep
from web.patients.labels import PATIENT_LABELS
from web.patients.photos import collect
from web.patients.schemas import PatientRequest
from web.patients.visits import PAST_DAYS, visit_of
from web.templating import render_page

router = APIRouter(include_in_schema=False)
FIELDS = ("specialty", "question", "mode", "full_name", "birth_date", "sex", "insurance_policy")
IDENTITY = ("full_name", "birth_date", "sex", "insurance_policy")
PAGE_SIZE = 200


@router.get("/questions")
async def questions(request: Request, signed_in: SignedInDep, api: PatientApiDep) -> Response:
    rows = await api.own_requests(signed_in.access_token)
    return render_page(request, "patients/questions.html", {**PATIENT_LABELS, "rows": rows})


async def _visited_specialties(api: PatientApi, token: str) -> list[str]:
    """The specialties of the patient's fulfilled in-person visits: those they may ask in."""
    now = utcnow()
    held = await api.appointments(
        token,
        starts_from=now - timedelta(days=PAST_DAYS),
        starts_before=now,
        statuses=("fulfilled",),
        limit=PAGE_SIZE,
    )
    found = (item.specialty for item in held if item.visit_type == "in_person")
    return sorted({specialty for specialty in found if specialty})


async def _last_identity(api: PatientApi, token: str, signed_in: SignedIn) -> dict[str, str]:
    """The patient's details as their last question gave them, else their name alone."""
    values = {"full_name": signed_in.session.full_name or ""}
    if rows := await api.own_requests(token):
        patient = (await api.own_request(token, rows[0].id)).patient
        values |= {
            "full_name": patient.full_name,
            "birth_date": patient.birth_date.isoformat(),
            "sex": patient.sex,
            "insurance_policy": patient.insurance_policy,
        }
    return values


async def _form_page(
    request: Request,
    api: PatientApi,
    token: str,
    state: FormState,
    *,
    signs: list[str],
    attached: list[uuid.UUID],
    form_key: str,
    not_eligible: str | None = None,
    status: int = 200,
) -> Response:
    context: dict[str, Any] = {
        **PATIENT_LABELS,
        "form": state,
        "visited": await _visited_specialties(api, token),
        "worsening": await api.worsening_signs(token),
        "signs": signs,
        "attached": attached,
        "form_key": form_key,
        "not_eligible": not_eligible,
        "chunk_size": request.app.state.settings.max_body_size,
    }
    return render_page(request, "patients/new_question.html", context, status=status)


@router.get("/questions/new")
async def new_question(request: Request, signed_in: SignedInDep, api: PatientApiDep) -> Response:
    token = signed_in.access_token
    state = FormState(values={"mode": "written", **await _last_identity(api, token, signed_in)})
    # A retry of the same form (a double tap, a lost answer) files one question, not two.
    key = uuid.uuid4().hex
    return await _form_page(request, api, token, state, signs=[], attached=[], form_key=key)


def _field_of(location: tuple[str | int, ...]) -> str | None:
    """The form field an API error location is about: the patient's details by their own
    name, the worsening signs by the list's."""
    if not location:
        return None
    head = str(location[0])
    if head == "patient" and len(location) > 1:
        return str(location[1]) if location[1] in IDENTITY else None
    if head == "worsening_signs":
        return "signs"
    if head == "attachment_ids":
        return "photo"
    return head if head in FIELDS else None


@router.post("/questions")
async def ask(request: Request, signed_in: SignedInFormDep, api: PatientApiDep) -> Response:
    token = signed_in.access_token
    form = await request.form()
    values = form_values(form, FIELDS)
    signs = [value for value in form.getlist("sign") if isinstance(value, str)]
    key = str(form.get("form_key") or "")[:64] or uuid.uuid4().hex
    photos = await collect(api, token, form)

    async def again(state: FormState, status: int, not_eligible: str | None = None) -> Response:
        return await _form_page(
            request, api, token, state, signs=signs, attached=photos.file_ids, form_key=key,
            not_eligible=not_eligible, status=status,
        )  # fmt: skip

    if photos.error:
        return await again(FormState(values=values, errors={"photo": [photos.error]}), 422)
    assert signed_in.session.user_id is not None  # a signed-in session's
    body = {
        # The directory's id of the patient is the reference, as a medic's form gives it for a
        # patient picked from the register: a patient knows no record number of the MIS.
        "patient": {"reference": str(signed_in.session.user_id)}
        | {name: values[name] for name in IDENTITY},
        "specialty": values["specialty"],
        "question": values["question"],
        "mode": values["mode"] or "written",
        "worsening_signs": signs,
        "attachment_ids": [str(each) for each in photos.file_ids],
    }
    result = await api.file_request(token, body, key)
    if isinstance(result, NotEligible):
        return await again(FormState(values=values), 409, result.reason)
    if isinstance(result, Refusal):
        return await again(refused(result, values, _field_of), result.status)
    return RedirectResponse(f"/questions/{result.id}?saved=sent", status_code=303)


@router.get("/questions/{case_id}")
async def question(
    request: Request,
    case_id: uuid.UUID,
    signed_in: SignedInDep,
    api: PatientApiDep,
    saved: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    """The question and its answer; another patient's is the 404 page (consult's answer)."""
    token = signed_in.access_token
    case = await api.own_request(token, case_id)
    context: dict[str, Any] = {
        **PATIENT_LABELS,
        "case": case,
        "saved": saved,
        "asked_at": local_time(case.created_at, request.state.language, signed_in.session.timezone),
        **await _answer(request, api, token, case),
    }
    return render_page(request, "patients/question.html", context)


async def _answer(
    request: Request, api: PatientApi, token: str, case: PatientRequest
) -> dict[str, Any]:
    """The signed conclusion's latest version, or the follow-up visit booked in answer."""
    if case.follow_up_appointment_id is not None:
        appointment = await api.appointment(token, case.follow_up_appointment_id)
        directory = request.app.state.directory_names
        organizations = await directory.organizations(api, token)
        visit = visit_of(appointment, utcnow(), request.state.language, organizations)
        return {"conclusion": None, "follow_up": visit}
    conclusions = await api.conclusions(token, case.id) if case.concluded_at else []
    return {"conclusion": conclusions[-1] if conclusions else None, "follow_up": None}
