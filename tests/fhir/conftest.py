"""FHIR view fixtures: one region's real data made through the gateway (a case with an
attachment and a signed conclusion, a patient's own request, a monitoring check-in, a
cardiologist's schedule with an in-person and a remote visit), and the validation against R4
4.0.1's own JSON schema and the R4B models."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fhir.resources.R4B import get_fhir_model_class

from gateway.models import ApiClient, kernel_tables
from services.common.uow import standalone_unit_of_work
from tests.conftest import Actor, Stack, running_stack
from tests.fhir.r4 import r4_errors

FHIR = "/api/fhir"
FHIR_JSON = "application/fhir+json"
# The public base every service is configured with: not the host the tests' client asks
# (`http://gateway`), so a URL built from the request instead would show.
PUBLIC_URL = "https://telemed.test"
PUBLIC_FHIR = PUBLIC_URL + FHIR
# A Monday; the centre is in Novosibirsk (UTC+7), the hospital in Vladivostok (UTC+10).
NOW = datetime(2025, 10, 20, 0, 0, tzinfo=UTC)
CENTRE_ZONE, DISTRICT_ZONE = "Asia/Novosibirsk", "Asia/Vladivostok"
WEEKDAYS = [
    {"weekday": day, "start": start, "end": end}
    for day in range(5)
    for start, end in (("09:00", "13:00"), ("14:00", "17:00"))
]
VIDEO_CLIENT_ID, VIDEO_CLIENT_SECRET = "tmc_scheduling_fhir", "the scheduling test secret"
MIS_REFERENCE = "MIS-42-000123"
PATIENT = {
    "reference": MIS_REFERENCE,
    "full_name": "Petrov Ivan Sergeevich",
    "birth_date": "1961-04-12",
    "sex": "male",
    "insurance_policy": "4250000000000123",
}


def local(day: str, clock: str, zone: str = CENTRE_ZONE) -> str:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=ZoneInfo(zone)).isoformat()


def validated(resource: dict[str, Any]) -> dict[str, Any]:
    """Checks `resource` against R4 4.0.1's own JSON schema (`r4.py`: every element known,
    every value of its type, URLs absolute) and the FHIR R4B model of its type (the schema
    leaves required primitives out; the model requires them, as R4 does for our types); a
    Bundle's entries each as their own."""
    assert r4_errors(resource) == []
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    for entry in resource.get("entry", []):
        validated(entry["resource"])
    return resource


def at_gateway(url: str) -> str:
    """An absolute URL of ours as the path the tests' client asks the gateway for."""
    assert url.startswith(PUBLIC_URL + "/"), url
    return url.removeprefix(PUBLIC_URL)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Region:
    stack: Stack
    clock: Clock
    medic: Actor
    other_medic: Actor  # another hospital's
    cardiologist: Actor
    neurologist: Actor
    operator: Actor  # the hospital's coordinator, who monitors its patients
    patient: Actor
    other_patient: Actor
    case: dict[str, Any]
    attachment: dict[str, Any]
    conclusion: dict[str, Any]
    own_request: dict[str, Any]  # the patient's own request after their in-person visit
    letter: dict[str, Any]  # the patient's own upload, attached to their request
    check_in: dict[str, Any]
    schedule: dict[str, Any]
    in_person: dict[str, Any]
    remote: dict[str, Any]

    async def get(self, who: Actor, path: str, **params: Any) -> httpx.Response:
        return await self.stack.client.get(f"{FHIR}/{path}", params=params, headers=who.headers)

    async def read(
        self, who: Actor, path: str, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        response = await self.get(who, path, **(params or {}))
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == FHIR_JSON
        found: dict[str, Any] = validated(response.json())
        return found

    async def search(self, who: Actor, resource_type: str, **params: Any) -> dict[str, Any]:
        bundle = await self.read(who, resource_type, params)
        assert bundle["type"] == "searchset"
        return bundle


def ids(bundle: dict[str, Any]) -> list[str]:
    return [entry["resource"]["id"] for entry in bundle.get("entry", [])]


@pytest.fixture
async def stack(clean_databases: dict[str, str], tmp_path: Path) -> AsyncIterator[Stack]:
    public: dict[str, Any] = {"public_url": PUBLIC_URL}
    overrides: dict[str, dict[str, Any]] = {
        "gateway": public,
        "consult": public,
        "files": public,
        "scheduling": public
        | {
            "reminder_interval_seconds": 3600.0,
            "video_client_id": VIDEO_CLIENT_ID,
            "video_client_secret": VIDEO_CLIENT_SECRET,
        },
    }
    async with running_stack(clean_databases, tmp_path, overrides) as running:
        yield running


async def _register_scheduling_client(stack: Stack, organization: dict[str, Any]) -> None:
    """The API client scheduling sets up video rooms as, so remote visits get their rooms."""
    gateway = stack.apps["gateway"]
    async with standalone_unit_of_work(gateway.state.database, kernel_tables.audit) as uow:
        uow.session.add(
            ApiClient(
                client_id=VIDEO_CLIENT_ID,
                secret_hash=await gateway.state.secret_hasher.hash(VIDEO_CLIENT_SECRET),
                name="Scheduling service",
                organization_id=uuid.UUID(organization["id"]),
                scopes=["video:rooms"],
                is_service=True,
            )
        )


async def _ok(response: httpx.Response, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _upload(stack: Stack, actor: Actor, name: str, kind: str) -> Any:
    response = await stack.client.post(
        "/api/files/files",
        content=b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
        params={"name": name, "kind": kind},
        headers=actor.headers,
    )
    return await _ok(response)


async def _consultation(
    stack: Stack, medic: Actor, cardiologist: Actor, centre: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """An urgent case with an ECG attached, accepted, started and concluded."""
    client = stack.client
    ecg = await _upload(stack, medic, "ECG 12-lead.pdf", "ecg")
    body = {
        "target_organization_id": centre["id"],
        "specialty": "cardiology",
        "patient": PATIENT,
        "urgency": "urgent",
        "question": "Is transfer for PCI indicated?",
        "summary": {
            "present_illness": "Chest pain for 6 hours.",
            "main_diagnosis": {"code": "I21.4", "text": "Acute subendocardial MI"},
        },
        "attachment_ids": [ecg["id"]],
        "submit": True,
    }
    case = await _ok(await client.post("/api/consult/cases", json=body, headers=medic.headers))
    for action in ("accept", "start"):
        url = f"/api/consult/cases/{case['id']}/{action}"
        await _ok(await client.post(url, headers=cardiologist.headers), 200)
    content = {
        "findings": "NSTEMI, high GRACE risk.",
        "diagnosis_text": "Acute subendocardial myocardial infarction",
        "diagnosis_codes": ["I21.4", "I10"],
        "recommendations": "Transfer to the PCI centre within 24 hours.",
    }
    conclusion = await _ok(
        await client.post(
            f"/api/consult/cases/{case['id']}/conclusions",
            json={"content": content},
            headers=cardiologist.headers,
        )
    )
    case = await _ok(
        await client.get(f"/api/consult/cases/{case['id']}", headers=medic.headers), 200
    )
    return case, ecg, conclusion


@pytest.fixture
async def region(stack: Stack) -> Region:
    clock = Clock(NOW)
    stack.apps["scheduling"].state.clock = clock
    client = stack.client
    centre = await stack.organization(kind="regional_centre", timezone=CENTRE_ZONE)
    hospital = await stack.organization(kind="district_hospital", timezone=DISTRICT_ZONE)
    other_hospital = await stack.organization(kind="district_hospital", timezone=DISTRICT_ZONE)
    await _register_scheduling_client(stack, centre)
    medic = await stack.actor("district_medic", hospital)
    cardiologist = await stack.actor("specialist", centre, "cardiology")
    operator = await stack.actor("coordinator", hospital)
    patient = await stack.actor("patient", hospital)
    case, ecg, conclusion = await _consultation(stack, medic, cardiologist, centre)

    schedule = await _ok(
        await client.post(
            "/api/scheduling/schedules",
            json={"weekly_hours": WEEKDAYS, "slot_step_minutes": 15},
            headers=cardiologist.headers,
        )
    )
    # The care episode is linked to the case through consult: its visits may then name it.
    linked = {"patient_id": str(patient.id), "practitioner_id": str(cardiologist.id)}
    episode = await _ok(
        await client.post(
            f"/api/consult/cases/{case['id']}/episodes", json=linked, headers=medic.headers
        )
    )
    booking = {
        "practitioner_id": str(cardiologist.id),
        "visit_type": "in_person",
        "start": local("2025-10-21", "10:00"),
        "patient_id": str(patient.id),
        "episode_id": episode["id"],
    }
    first = await _ok(
        await client.post("/api/scheduling/appointments", json=booking, headers=medic.headers)
    )
    clock.now = datetime.fromisoformat(first["start"]) + timedelta(minutes=5)
    for action in ("arrive", "fulfil"):
        url = f"/api/scheduling/appointments/{first['id']}/{action}"
        first = await _ok(await client.post(url, headers=cardiologist.headers), 200)
    clock.now = NOW
    follow_up = {
        "practitioner_id": str(cardiologist.id),
        "visit_type": "remote",
        "start": local("2025-10-28", "10:00"),
        "episode_id": first["episode_id"],
        "consult_case_id": case["id"],
    }
    remote = await _ok(
        await client.post("/api/scheduling/appointments", json=follow_up, headers=medic.headers)
    )
    assert remote["room"]["state"] == "ready", remote

    letter = await _upload(stack, patient, "Discharge letter.pdf", "record_extract")
    own_request = await _ok(
        await client.post(
            "/api/consult/patient-requests",
            json={
                "patient": PATIENT | {"reference": "MIS-42-000777"},
                "specialty": "cardiology",
                "question": "My ankles swell in the evening; keep the amlodipine?",
                "attachment_ids": [letter["id"]],
            },
            headers=patient.headers,
        )
    )
    enrolment = await _ok(
        await client.post(
            "/api/consult/monitoring/enrolments",
            json={
                "programme": "pregnancy_high_risk",
                "patient": PATIENT | {"reference": "MIS-42-000555", "sex": "female"},
                "patient_id": str(patient.id),
                "contact_phone": "+7 911 555-01-23",
                "indication": "Week 32, chronic hypertension.",
            },
            headers=operator.headers,
        )
    )
    check_in = await _ok(
        await client.post(
            f"/api/consult/monitoring/enrolments/{enrolment['id']}/check-ins",
            json={
                "vital_signs": {"systolic_bp": 165, "diastolic_bp": 112, "heart_rate": 88},
                "symptoms": ["severe_headache"],
                "wellbeing": "worse",
                "note": "Took labetalol in the morning.",
            },
            headers=operator.headers,
        )
    )
    return Region(
        stack=stack,
        clock=clock,
        medic=medic,
        other_medic=await stack.actor("district_medic", other_hospital),
        cardiologist=cardiologist,
        neurologist=await stack.actor("specialist", centre, "neurology"),
        operator=operator,
        patient=patient,
        other_patient=await stack.actor("patient", hospital),
        case=case,
        attachment=ecg,
        conclusion=conclusion,
        own_request=own_request,
        letter=letter,
        check_in=check_in,
        schedule=schedule,
        in_person=first,
        remote=remote,
    )
