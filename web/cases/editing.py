"""Opening and editing a case: the medic's form (patient, clinical summary, regional centre,
specialty, urgency with the due time it will get), saved as a draft or submitted."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from services.common.db import utcnow
from services.common.errors import NotFound
from web.cases.api import CasesApi, Refusal
from web.cases.deps import CasesApiDep, DirectoryDep, SeenDep
from web.cases.forms import (
    FIELDS,
    FormState,
    case_body,
    case_values,
    form_values,
    parse_id,
    refused,
)
from web.cases.labels import SPECIALTIES
from web.cases.schemas import Case, Organization, RegisteredPatient
from web.cases.seen import SeenStore
from web.cases.views import Directory, render
from web.deps import SignedIn, SignedInDep, SignedInFormDep

router = APIRouter(include_in_schema=False)
TEMPLATE = "cases/form.html"
REGIONAL_CENTRE = "regional_centre"
Search = Annotated[str | None, Query(max_length=255)]


async def centres(
    api: CasesApi, directory: Directory, token: str, own: uuid.UUID | None
) -> list[Organization]:
    """The regional centres a case may go to, those of the medic's own region first."""
    organizations = await directory.organizations(api, token)
    region = organizations[own].region if own in organizations else None
    found = [each for each in organizations.values() if each.kind == REGIONAL_CENTRE]
    return sorted(found, key=lambda each: (each.region != region, each.name))


async def _form_page(
    request: Request,
    api: CasesApi,
    directory: Directory,
    signed_in: SignedIn,
    state: FormState,
    *,
    case: Case | None = None,
    status: int = 200,
    **extra: Any,
) -> Response:
    token = signed_in.access_token
    me = await api.me(token)
    targets = await centres(api, directory, token, me.organization_id)
    target = parse_id(state.values.get("target_organization_id"))
    if target is None and targets and case is None:
        target = targets[0].id
        state.values["target_organization_id"] = str(target)
    context = {
        "form": state,
        "case": case,
        "target_options": [(str(each.id), each.name) for each in targets],
        "target_names": {str(each.id): each.name for each in targets},
        "specialties": SPECIALTIES,
        "deadlines": await _deadlines(api, token, target),
        "patient_q": "",
        "found": [],
        **extra,
        # A retry of the same form (a double click, a lost answer) opens one case, not two.
        "form_key": extra.get("form_key") or uuid.uuid4().hex,
    }
    return render(request, TEMPLATE, context, status=status)


async def _deadlines(api: CasesApi, token: str, target: uuid.UUID | None) -> dict[str, Any]:
    """The due time per urgency for the chosen centre, as consult would set it now."""
    if target is None:
        return {}
    preview = await api.deadlines(token, target)
    return {item.urgency: item.due_at for item in preview.deadlines} if preview else {}


def _patient_values(patient: RegisteredPatient) -> dict[str, str]:
    """The register's patient as the case's: the register's id is the reference."""
    return {
        "patient_reference": str(patient.id),
        "patient_full_name": patient.full_name,
        "patient_birth_date": patient.birth_date.isoformat(),
        "patient_sex": patient.sex,
        "patient_insurance_policy": patient.policy_number or "",
    }


@router.get("/cases/new")
async def new_case(
    request: Request,
    signed_in: SignedInDep,
    api: CasesApiDep,
    directory: DirectoryDep,
    patient_q: Search = None,
    patient: Search = None,
    target: Search = None,
) -> Response:
    """The empty form; with `patient_q`, the register's patients of that name to pick from;
    with `patient`, the form filled in with that one."""
    token = signed_in.access_token
    state = FormState(values={"target_organization_id": target or "", "mode": "written"})
    found: list[RegisteredPatient] | None = []
    if patient_q and patient_q.strip():
        found = await api.find_patients(token, patient_q.strip())
    if (chosen := parse_id(patient)) and (record := await api.registered_patient(token, chosen)):
        state.values |= _patient_values(record)
    return await _form_page(
        request, api, directory, signed_in, state, patient_q=patient_q or "", found=found
    )


@router.get("/cases/new/urgency")
async def urgency_choices(
    request: Request,
    signed_in: SignedInDep,
    api: CasesApiDep,
    target_organization_id: Search = None,
    urgency: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    """The urgency question again for another centre (htmx swaps it in as the centre changes)."""
    target = parse_id(target_organization_id)
    context = {
        "form": FormState(values={"urgency": urgency or ""}),
        "deadlines": await _deadlines(api, signed_in.access_token, target),
    }
    return render(request, TEMPLATE, context, block="urgency")


@router.post("/cases/new")
async def create_case(
    request: Request,
    signed_in: SignedInFormDep,
    api: CasesApiDep,
    directory: DirectoryDep,
    seen: SeenDep,
) -> Response:
    form = await request.form()
    values = form_values(form, FIELDS)
    submit = form.get("action") == "submit"
    form_key = str(form.get("form_key") or "")[:64] or None
    body = case_body(values) | {"submit": submit}
    result = await api.create_case(signed_in.access_token, body, form_key)
    if isinstance(result, Refusal):
        state = refused(result, values)
        return await _form_page(
            request, api, directory, signed_in, state, status=result.status, form_key=form_key
        )
    return await _saved(seen, signed_in, result, "submitted" if submit else "draft")


async def _saved(seen: SeenStore, signed_in: SignedIn, case: Case, saved: str) -> Response:
    """To the case page; the author has seen the case as it now stands."""
    assert signed_in.session.user_id is not None
    await seen.record(signed_in.session.user_id, case.id, case.status, utcnow())
    return RedirectResponse(f"/cases/{case.id}?saved={saved}", status_code=303)


@router.get("/cases/{case_id}/edit")
async def edit_case(
    request: Request,
    case_id: uuid.UUID,
    signed_in: SignedInDep,
    api: CasesApiDep,
    directory: DirectoryDep,
) -> Response:
    case = await api.case(signed_in.access_token, case_id)
    if case.status not in ("draft", "info_requested"):
        raise NotFound("Only a draft, or a case sent back with a question, is edited.")
    state = FormState(values=case_values(case))
    return await _form_page(request, api, directory, signed_in, state, case=case)


@router.post("/cases/{case_id}/edit")
async def save_case(
    request: Request,
    case_id: uuid.UUID,
    signed_in: SignedInFormDep,
    api: CasesApiDep,
    directory: DirectoryDep,
    seen: SeenDep,
) -> Response:
    """Saves the edit if nobody changed the case since the form was opened (its version)."""
    token = signed_in.access_token
    form = await request.form()
    values = form_values(form, FIELDS)
    version = str(form.get("version") or "")
    case = await api.case(token, case_id)
    body = case_body(values, reroutable=case.status == "draft")
    result = await api.update_case(
        token, case_id, body, int(version) if version.isdigit() else None
    )
    if isinstance(result, Refusal):
        state = refused(result, values)
        if result.status == 412:
            state.detail = "changed_meanwhile"
        return await _form_page(
            request, api, directory, signed_in, state, case=case, status=result.status
        )
    if form.get("action") == "submit" and result.status == "draft":
        submitted = await api.act(token, case_id, "submit")
        if isinstance(submitted, Refusal):
            return await _form_page(
                request, api, directory, signed_in, refused(submitted, values),
                case=result, status=submitted.status,
            )  # fmt: skip
        return await _saved(seen, signed_in, submitted, "submitted")
    return await _saved(seen, signed_in, result, "edited")
