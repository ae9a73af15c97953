"""The ward screens' forms as the video service's bodies, values as typed (the service says
what is wrong), and its refusals beside the fields they are about."""

import uuid
from typing import Any

from starlette.datastructures import FormData

from web.admin.views import chosen
from web.cases.forms import form_values
from web.cases.schemas import Organization
from web.wards.schemas import Bed, Ward

WARD_FIELDS = ("name", "recording_allowed")
BED_FIELDS = ("label", "source", "rtsp_url", "patient_ref", "recording_consent")
PATIENT_FIELDS = ("patient_ref", "recording_consent")
SOURCES = ("tablet", "rtsp")
WATCHER_KIND = "regional_centre"


def ticked(values: dict[str, str], name: str) -> bool:
    return values.get(name) == "yes"


def ward_form(form: FormData) -> tuple[dict[str, str], dict[str, Any]]:
    """The values typed (the watchers space-separated) and the body of the ward's details."""
    values = form_values(form, WARD_FIELDS)
    watchers = chosen(form, "watcher_ids")
    body = {
        "name": values["name"],
        "recording_allowed": ticked(values, "recording_allowed"),
        "watcher_ids": watchers,
    }
    return values | {"watcher_ids": " ".join(watchers)}, body


def ward_values(ward: Ward) -> dict[str, str]:
    return {
        "name": ward.name,
        "recording_allowed": "yes" if ward.recording_allowed else "",
        "watcher_ids": " ".join(str(each) for each in ward.watcher_ids),
    }


def bed_form(form: FormData) -> tuple[dict[str, str], dict[str, Any]]:
    """A new bed: the camera's address only for an IP camera's bed, where the service needs
    it; a tablet's bed sends it only if one was typed (the service then says it takes none)."""
    values = form_values(form, BED_FIELDS)
    body: dict[str, Any] = {
        "label": values["label"],
        "source": values["source"] or "tablet",
        "patient_ref": values["patient_ref"] or None,
        "recording_consent": ticked(values, "recording_consent"),
    }
    if values["rtsp_url"] or body["source"] == "rtsp":
        body["rtsp_url"] = values["rtsp_url"] or None
    return values, body


def patient_form(form: FormData) -> tuple[dict[str, str], dict[str, Any]]:
    """The bed's patient (empty: nobody, which withdraws the consent) and their consent."""
    values = form_values(form, PATIENT_FIELDS)
    body = {
        "patient_ref": values["patient_ref"] or None,
        "recording_consent": ticked(values, "recording_consent"),
    }
    return values, body


def patient_values(bed: Bed) -> dict[str, str]:
    return {
        "patient_ref": bed.patient_ref or "",
        "recording_consent": "yes" if bed.recording_consent else "",
    }


def field_of(location: tuple[str | int, ...]) -> str | None:
    """The form field an error is about."""
    name = str(location[0]) if location else ""
    return name if name in (*WARD_FIELDS, *BED_FIELDS, "watcher_ids") else None


def bed_field(location: tuple[str | int, ...]) -> str | None:
    """As `field_of`; the body-wide check of a new bed's source is about the camera's address
    (a camera without one, a tablet with one)."""
    return field_of(location) if location else "rtsp_url"


def watcher_choices(
    organizations: list[Organization], own: uuid.UUID | None, chosen_ids: str
) -> list[tuple[str, str]]:
    """The regional centres that could watch the ward (not its own hospital, whose staff
    always may), and any other organisation already chosen."""
    picked = set(chosen_ids.split())
    return [
        (str(each.id), each.name)
        for each in organizations
        if each.id != own and (each.kind == WATCHER_KIND or str(each.id) in picked)
    ]
