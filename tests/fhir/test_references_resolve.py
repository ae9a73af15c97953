"""Every reference resolves with the reader's token: for each reader (the district medic who
opened the case, the specialist it is addressed to, the patient, a coordinator), everything
they can search is fetched, and every `reference` and attachment `url` in it, and in what those
lead to in turn, is read back with the same token: 200, of the type and id named."""

from collections import deque
from typing import Any

import pytest
from sqlalchemy import select

from services.common.db import Database
from services.consult.db import KERNEL_TABLES
from tests.conftest import Actor
from tests.fhir.conftest import PUBLIC_URL, Region, _ok, at_gateway, ids, local, validated

# Slots are searched by schedule (below); the others by type alone, as the reader may.
SEARCHED = (
    "ServiceRequest", "Task", "DiagnosticReport", "Observation", "DocumentReference",
    "Appointment", "Schedule", "Location", "Patient", "Practitioner", "PractitionerRole",
    "Organization",
)  # fmt: skip


def _references(value: Any) -> list[str]:
    """Every literal `reference` anywhere in a resource."""
    if isinstance(value, dict):
        found = [value["reference"]] if isinstance(value.get("reference"), str) else []
        return found + [ref for item in value.values() for ref in _references(item)]
    if isinstance(value, list):
        return [ref for item in value for ref in _references(item)]
    return []


def _attachment_urls(resource: dict[str, Any]) -> list[str]:
    if resource["resourceType"] != "DocumentReference":
        return []
    return [content["attachment"]["url"] for content in resource["content"]]


async def _searchable(region: Region, reader: Actor) -> list[dict[str, Any]]:
    """What the reader finds searching each type, a case's documents and a schedule's slots;
    a type their role does not work with (403) is passed over."""
    found: list[dict[str, Any]] = []
    for resource_type in SEARCHED:
        response = await region.get(reader, resource_type, _count="200")
        if response.status_code == 403:
            continue
        assert response.status_code == 200, (reader.role, resource_type, response.text)
        found += [entry["resource"] for entry in validated(response.json()).get("entry", [])]
    for resource in list(found):
        if resource["resourceType"] == "ServiceRequest":
            related = f"ServiceRequest/{resource['id']}"
            bundle = await region.search(reader, "DocumentReference", related=related)
            found += [entry["resource"] for entry in bundle.get("entry", [])]
        if resource["resourceType"] == "Schedule":
            visit = resource["serviceType"][0]["coding"][0]["code"]
            bundle = await region.search(
                reader, "Slot", schedule=f"Schedule/{resource['id']}",
                **{"service-type": visit, "_count": "2"},
            )  # fmt: skip
            found += [entry["resource"] for entry in bundle.get("entry", [])]
    return found


async def _resolve(region: Region, reader: Actor, start: list[dict[str, Any]]) -> set[str]:
    """Reads every reference of `start`, and of what those lead to, and fetches every
    attachment's bytes, all with the reader's token; returns what was resolved."""
    resolved: set[str] = set()
    queue = deque(start)
    while queue:
        resource = queue.popleft()
        for url in _attachment_urls(resource):
            if url in resolved:
                continue
            assert url.startswith(PUBLIC_URL + "/"), url
            content = await region.stack.client.get(
                at_gateway(url), headers=reader.headers, follow_redirects=True
            )
            assert content.status_code == 200, (reader.role, url, content.text)
            assert content.content.startswith(b"%PDF")
            resolved.add(url)
        for ref in _references(resource):
            if ref in resolved:
                continue
            response = await region.get(reader, ref)
            assert response.status_code == 200, (reader.role, ref, response.text)
            target = validated(response.json())
            assert f"{target['resourceType']}/{target['id']}" == ref
            resolved.add(ref)
            queue.append(target)
    return resolved


@pytest.fixture
async def room_visit(region: Region) -> dict[str, Any]:
    """The hospital's telemedicine room and a doctors' video consultation booked in it."""
    client, operator = region.stack.client, region.operator
    room = await _ok(
        await client.post(
            "/api/scheduling/schedules",
            json={
                "kind": "room",
                "name": "Telemedicine room 1",
                "weekly_hours": [{"weekday": 2, "start": "09:00", "end": "12:00"}],
                "visit_types": [{"type": "doctor_to_doctor", "duration_minutes": 30}],
                "slot_step_minutes": 30,
            },
            headers=operator.headers,
        )
    )
    booking = {
        "schedule_id": room["id"],
        "visit_type": "doctor_to_doctor",
        "start": local("2025-10-22", "10:00", "Asia/Vladivostok"),
    }
    visit = await _ok(
        await client.post(
            "/api/scheduling/appointments", json=booking, headers=region.medic.headers
        )
    )
    return {"room": room, "visit": visit}


async def test_every_reference_resolves_for_every_reader(
    region: Region, room_visit: dict[str, Any]
) -> None:
    case, ecg = f"ServiceRequest/{region.case['id']}", region.attachment["id"]
    cardiologist, patient = region.cardiologist, region.patient
    location = f"Location/{room_visit['room']['id']}"
    # What each reader must at least have followed: the case's file for its specialist without
    # any grant, the room the visit is in, the people the reader's records name.
    expected = [
        (region.medic, {f"DocumentReference/{ecg}", location, f"Practitioner/{cardiologist.id}"}),
        (cardiologist, {f"DocumentReference/{ecg}", f"Patient/{patient.id}", case}),
        (patient, {
            f"Practitioner/{cardiologist.id}", f"Practitioner/{region.operator.id}",
            f"DocumentReference/{region.letter['id']}",
        }),
        (region.operator, {f"DocumentReference/{ecg}", location, f"Patient/{patient.id}"}),
    ]  # fmt: skip
    for reader, wanted in expected:
        found = await _searchable(region, reader)
        resolved = await _resolve(region, reader, found)
        assert wanted <= resolved, (reader.role, wanted - resolved)
        documents = [url for url in resolved if url.startswith(PUBLIC_URL)]
        assert documents, reader.role  # some file's bytes were fetched, too

    # The room is a Location: found by id, organisation and name; a specialist's schedule is not.
    room = await region.read(patient, location)
    assert room["name"] == "Telemedicine room 1"
    assert room["managingOrganization"] == {"reference": f"Organization/{patient.organization_id}"}
    assert room["physicalType"]["coding"][0]["code"] == "ro"
    for params in (
        {"_id": room["id"]},
        {"organization": f"Organization/{patient.organization_id}"},
        {"name": "room 1"},
    ):
        assert ids(await region.search(patient, "Location", **params)) == [room["id"]]
    assert (await region.search(patient, "Location", name="ward"))["total"] == 0
    schedule = await region.get(patient, f"Location/{region.schedule['id']}")
    assert schedule.status_code == 404
    visit = await region.read(region.medic, f"Appointment/{room_visit['visit']['id']}")
    assert [participant["actor"] for participant in visit["participant"]] == [
        {"reference": location}
    ]


async def test_people_and_files_stay_hidden_beyond_the_records(region: Region) -> None:
    """The rules the resolving opens are no wider: a patient still cannot read staff their
    records do not name, nor a specialist of another specialty the case's file or patient."""
    patient, neurologist = region.patient, region.neurologist
    for who, path in [
        (patient, f"Practitioner/{region.medic.id}"),  # booked the visits, named in none
        (patient, f"Practitioner/{neurologist.id}"),
        (region.other_patient, f"Practitioner/{region.cardiologist.id}"),
        (neurologist, f"DocumentReference/{region.attachment['id']}"),
        (neurologist, f"Patient/{patient.id}"),
        (region.other_medic, f"DocumentReference/{region.attachment['id']}"),
    ]:
        response = await region.get(who, path)
        assert response.status_code == 404, (who.role, path, response.text)
    content = f"/api/consult/fhir/DocumentReference/{region.attachment['id']}/content"
    refused = await region.stack.client.get(content, headers=neurologist.headers)
    assert refused.status_code == 404
    # The redirect's grant is the reader's alone: with another's token the files service refuses.
    granted = await region.stack.client.get(content, headers=region.cardiologist.headers)
    assert granted.status_code == 307
    stolen = await region.stack.client.get(granted.headers["location"], headers=neurologist.headers)
    assert stolen.status_code in (403, 404)
    # Consult put on record who read the file and was handed a grant for its bytes.
    database: Database = region.stack.apps["consult"].state.database
    records = KERNEL_TABLES.audit.records
    query = select(records.c.action, records.c.outcome).where(
        records.c.resource_id == region.case["id"],
        records.c.actor_id == str(region.cardiologist.id),
    )
    async with database.sessionmaker() as session:
        trail = {(row.action, row.outcome) for row in await session.execute(query)}
    assert {("attachment.read", "success"), ("case.attachments_grant", "success")} <= trail
