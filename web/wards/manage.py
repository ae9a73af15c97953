"""`/wards/{id}/manage`: a ward for its hospital's coordinators — its name, whether it may be
recorded, the regional centres that watch it; its beds (added with their picture's source,
the patient and their consent set or cleared, the bedside tablet's credential issued and shown
once, or revoked, a bed removed); and its alarms. Each step is a plain form (post, then back to
the page); the service's refusal is said beside the step's form."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from services.common.errors import Forbidden
from web.cases.api import Refusal
from web.cases.forms import FormState, refused
from web.deps import SignedInDep, SignedInFormDep
from web.templating import render_page
from web.wards.api import WardsApi, WardsApiDep
from web.wards.forms import (
    bed_field,
    bed_form,
    field_of,
    patient_form,
    patient_values,
    ward_form,
    ward_values,
    watcher_choices,
)
from web.wards.listing import require_screen
from web.wards.schemas import DeviceCredential

router = APIRouter(include_in_schema=False)
WardId = Annotated[uuid.UUID, Path()]
BedId = Annotated[uuid.UUID, Path()]
Saved = Annotated[str | None, Query(max_length=32)]


async def show(
    request: Request,
    api: WardsApi,
    token: str,
    ward_id: uuid.UUID,
    *,
    forms: dict[str, FormState] | None = None,
    status: int = 200,
    saved: str | None = None,
    issued: tuple[uuid.UUID, DeviceCredential] | None = None,
) -> Response:
    """The page as it stands; `forms` holds a refused step's form by its name (`ward`, `bed`,
    `patient-<bed>`, `bed-<bed>`); `issued`, a tablet credential just issued, shown once."""
    ward = await api.ward(token, ward_id)  # one the person may not see: the 404 page
    if not ward.may_manage:
        raise Forbidden("Only the hospital's coordinators manage its wards.")
    forms = forms or {}
    details = forms.get("ward") or FormState(values=ward_values(ward))
    labels = {bed.id: bed.label for bed in ward.beds}
    context = {
        "ward": ward,
        "ward_form": details,
        "watcher_choices": watcher_choices(
            await api.organizations(token), ward.organization_id, details.values["watcher_ids"]
        ),
        "bed_form": forms.get("bed") or FormState(values={"source": "tablet"}),
        "patient_forms": {
            bed.id: forms.get(f"patient-{bed.id}") or FormState(values=patient_values(bed))
            for bed in ward.beds
        },
        "bed_refusals": {bed.id: forms.get(f"bed-{bed.id}") for bed in ward.beds},
        "alarms": [
            (alarm, labels.get(alarm.bed_id, "")) for alarm in await api.alarms(token, ward_id)
        ],
        "saved": saved,
        "issued": issued,
    }
    return render_page(request, "wards/manage.html", context, status=status)


@router.get("/wards/{ward_id}/manage")
async def manage_page(
    request: Request, ward_id: WardId, signed_in: SignedInDep, api: WardsApiDep, saved: Saved = None
) -> Response:
    require_screen(signed_in)
    return await show(request, api, signed_in.access_token, ward_id, saved=saved)


def _back(ward_id: uuid.UUID, saved: str, anchor: str = "") -> Response:
    return RedirectResponse(f"/wards/{ward_id}/manage?saved={saved}{anchor}", status_code=303)


@router.post("/wards/{ward_id}/manage")
async def change_ward(
    request: Request, ward_id: WardId, signed_in: SignedInFormDep, api: WardsApiDep
) -> Response:
    values, body = ward_form(await request.form())
    token = signed_in.access_token
    result = await api.change_ward(token, ward_id, body)
    if isinstance(result, Refusal):
        forms = {"ward": refused(result, values, field_of)}
        return await show(request, api, token, ward_id, forms=forms, status=result.status)
    return _back(ward_id, "ward")


@router.post("/wards/{ward_id}/beds")
async def add_bed(
    request: Request, ward_id: WardId, signed_in: SignedInFormDep, api: WardsApiDep
) -> Response:
    values, body = bed_form(await request.form())
    token = signed_in.access_token
    result = await api.add_bed(token, ward_id, body)
    if isinstance(result, Refusal):
        forms = {"bed": refused(result, values, bed_field)}
        return await show(request, api, token, ward_id, forms=forms, status=result.status)
    return _back(ward_id, "bed", f"#bed-{result.id}")


@router.post("/wards/{ward_id}/beds/{bed_id}/patient")
async def set_patient(
    request: Request, ward_id: WardId, bed_id: BedId, signed_in: SignedInFormDep, api: WardsApiDep
) -> Response:
    values, body = patient_form(await request.form())
    token = signed_in.access_token
    result = await api.change_bed(token, ward_id, bed_id, body)
    if isinstance(result, Refusal):
        forms = {f"patient-{bed_id}": refused(result, values, field_of)}
        return await show(request, api, token, ward_id, forms=forms, status=result.status)
    return _back(ward_id, "patient", f"#bed-{bed_id}")


@router.post("/wards/{ward_id}/beds/{bed_id}/device")
async def issue_device(
    request: Request, ward_id: WardId, bed_id: BedId, signed_in: SignedInFormDep, api: WardsApiDep
) -> Response:
    """The answer is the page with the credential: not a redirect, so that no later page can
    show it again (the service keeps only its hash)."""
    token = signed_in.access_token
    result = await api.issue_device(token, ward_id, bed_id)
    if isinstance(result, Refusal):
        forms = {f"bed-{bed_id}": FormState(detail=result.detail)}
        return await show(request, api, token, ward_id, forms=forms, status=result.status)
    return await show(request, api, token, ward_id, status=201, issued=(bed_id, result))


@router.post("/wards/{ward_id}/beds/{bed_id}/device/revoke")
async def revoke_device(
    request: Request, ward_id: WardId, bed_id: BedId, signed_in: SignedInFormDep, api: WardsApiDep
) -> Response:
    token = signed_in.access_token
    refusal = await api.revoke_device(token, ward_id, bed_id)
    if refusal is not None:
        forms = {f"bed-{bed_id}": FormState(detail=refusal.detail)}
        return await show(request, api, token, ward_id, forms=forms, status=refusal.status)
    return _back(ward_id, "revoked", f"#bed-{bed_id}")


@router.post("/wards/{ward_id}/beds/{bed_id}/delete")
async def delete_bed(
    request: Request, ward_id: WardId, bed_id: BedId, signed_in: SignedInFormDep, api: WardsApiDep
) -> Response:
    token = signed_in.access_token
    refusal = await api.delete_bed(token, ward_id, bed_id)
    if refusal is not None:
        forms = {f"bed-{bed_id}": FormState(detail=refusal.detail)}
        return await show(request, api, token, ward_id, forms=forms, status=refusal.status)
    return _back(ward_id, "deleted")
