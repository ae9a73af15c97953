"""The FHIR R4 views through the gateway: every type read by id and found by search, each
resource valid against the FHIR models, with the native API's access rules."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select

from services.common.db import Database
from services.consult.db import KERNEL_TABLES
from tests.conftest import Actor, Stack
from tests.fhir.conftest import (
    FHIR,
    MIS_REFERENCE,
    PUBLIC_FHIR,
    PUBLIC_URL,
    Region,
    at_gateway,
    ids,
    validated,
)

VIRTUAL_SERVICE = "http://hl7.org/fhir/5.0/StructureDefinition/extension-Appointment.virtualService"


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def _read_and_find(
    region: Region, reader: Actor, resource_type: str, resource_id: str, **params: Any
) -> dict[str, Any]:
    """Reads the resource, and finds the same one by search."""
    resource = await region.read(reader, f"{resource_type}/{resource_id}")
    assert resource["resourceType"] == resource_type
    assert resource["id"] == resource_id
    bundle = await region.search(reader, resource_type, **params)
    (entry,) = [entry for entry in bundle["entry"] if entry["resource"]["id"] == resource_id]
    assert entry["resource"] == resource
    assert entry["fullUrl"] == f"{PUBLIC_FHIR}/{resource_type}/{resource_id}"
    return resource


async def _every_page(
    region: Region, who: Actor, resource_type: str, params: dict[str, Any], page_size: int
) -> list[str]:
    """The ids of every page, following `next` links; each page but the last is full."""
    page = await region.search(who, resource_type, **params)
    found = ids(page)
    while next_link := {link["relation"]: link["url"] for link in page["link"]}.get("next"):
        assert len(ids(page)) == page_size
        assert "total" not in page  # not counted while more follow
        assert next_link.startswith(PUBLIC_FHIR)
        response = await region.stack.client.get(at_gateway(next_link), headers=who.headers)
        assert response.status_code == 200, response.text
        page = validated(response.json())
        found += ids(page)
    return found


async def test_every_type_is_read_and_found_as_valid_fhir(region: Region) -> None:
    medic, case_id = region.medic, region.case["id"]
    patient = f"Patient/{region.patient.id}"

    request = await _read_and_find(region, medic, "ServiceRequest", case_id, status="completed")
    assert request["priority"] == "urgent"
    assert request["status"] == "completed"
    assert request["subject"]["identifier"]["value"] == MIS_REFERENCE
    assert request["supportingInfo"] == [
        {"reference": f"DocumentReference/{region.attachment['id']}"}
    ]

    task = await _read_and_find(region, medic, "Task", case_id)
    assert task["status"] == "completed"
    assert task["focus"] == {"reference": f"ServiceRequest/{case_id}"}
    assert task["owner"] == {"reference": f"Practitioner/{region.cardiologist.id}"}
    due = _instant(task["restriction"]["period"]["end"])
    assert due == datetime.fromisoformat(region.case["due_at"])

    reports = await region.search(
        medic, "DiagnosticReport", **{"patient:identifier": MIS_REFERENCE}
    )
    (report,) = [entry["resource"] for entry in reports["entry"]]
    report = await _read_and_find(region, medic, "DiagnosticReport", report["id"], status="final")
    assert report["basedOn"] == [{"reference": f"ServiceRequest/{case_id}"}]
    assert report["status"] == "final"
    codes = [concept["coding"][0]["code"] for concept in report["conclusionCode"]]
    assert codes == region.conclusion["content"]["diagnosis_codes"]

    # A case's file is consult's to show (read by id and found by case alike), with the case's
    # patient, to every reader of the case: its specialist needs no grant of their own.
    related = f"ServiceRequest/{case_id}"
    document = await _read_and_find(
        region, medic, "DocumentReference", region.attachment["id"], related=related
    )
    assert document["subject"] == request["subject"]
    assert document["context"]["related"] == [{"reference": related}]
    assert await region.read(region.cardiologist, f"DocumentReference/{document['id']}") == document
    attachment = document["content"][0]["attachment"]
    content_url = f"{PUBLIC_URL}/api/consult/fhir/DocumentReference/{document['id']}/content"
    assert attachment["url"] == content_url
    assert attachment["contentType"] == "application/pdf"
    for reader in (medic, region.cardiologist):
        content = await region.stack.client.get(
            at_gateway(attachment["url"]), headers=reader.headers, follow_redirects=True
        )
        assert content.status_code == 200
        assert content.content.startswith(b"%PDF")
    # The files service shows the owner their own files, knowing who stored them, not for whom.
    own = await region.search(medic, "DocumentReference")
    (stored,) = [
        entry["resource"] for entry in own["entry"] if entry["resource"]["id"] == document["id"]
    ]
    assert "subject" not in stored
    assert stored["author"] == [{"reference": f"Organization/{medic.organization_id}"}]
    files_url = f"{PUBLIC_URL}/api/files/files/{region.attachment['id']}/content"
    assert stored["content"][0]["attachment"]["url"] == files_url
    shared = ("id", "status", "type", "date", "description", "context")
    assert {key: stored[key] for key in shared} == {key: document[key] for key in shared}
    by_reference = await region.search(
        region.cardiologist, "DocumentReference", **{"patient:identifier": MIS_REFERENCE}
    )
    assert ids(by_reference) == [region.attachment["id"]]
    letter = region.letter["id"]
    for reader in (region.patient, medic):  # the request is the medic's organisation's too
        found = await region.search(reader, "DocumentReference", patient=patient)
        assert ids(found) == [letter]
        assert found["entry"][0]["resource"]["subject"]["reference"] == patient

    in_person = await _read_and_find(
        region, medic, "Appointment", region.in_person["id"], patient=patient
    )
    assert in_person["status"] == "fulfilled"
    assert "extension" not in in_person
    remote = await _read_and_find(
        region, medic, "Appointment", region.remote["id"], status="booked"
    )
    (virtual,) = remote["extension"]
    assert virtual["url"] == VIRTUAL_SERVICE
    parts = {part["url"]: part for part in virtual["extension"]}
    assert parts["channelType"]["valueCoding"]["code"] == "telemed-video"
    join = f"{PUBLIC_URL}/api/scheduling/appointments/{region.remote['id']}/join-link"
    assert parts["address"]["valueUrl"] == join
    assert parts["additionalInfo"]["valueUrl"].endswith(region.remote["room"]["room_id"])
    assert "join/" not in str(remote)  # no join token, the patient's secret, is ever shown
    assert remote["basedOn"] == [{"reference": f"ServiceRequest/{case_id}"}]

    schedule = await _read_and_find(
        region,
        medic,
        "Schedule",
        region.schedule["id"],
        actor=f"Practitioner/{region.cardiologist.id}",
    )
    assert schedule["actor"] == [{"reference": f"Practitioner/{region.cardiologist.id}"}]

    slots = await region.search(
        medic,
        "Slot",
        schedule=f"Schedule/{region.schedule['id']}",
        **{"service-type": "in-person", "date": "2025-10-21"},
    )
    starts = [entry["resource"]["start"] for entry in slots["entry"]]
    assert "2025-10-21T03:00:00Z" not in starts  # the in-person visit holds it
    first = slots["entry"][0]["resource"]
    assert await region.read(medic, f"Slot/{first['id']}") == first
    (taken,) = in_person["slot"]
    busy = await region.read(medic, taken["reference"])
    assert busy["status"] == "busy"
    assert busy["start"] == in_person["start"]

    observation = await _read_and_find(
        region, region.operator, "Observation", region.check_in["id"], patient=patient
    )
    assert observation["subject"]["reference"] == patient
    assert observation["interpretation"][0]["coding"][0]["code"] == "AA"  # an ambulance
    vitals = {
        component["code"]["coding"][0]["code"]: component["valueQuantity"]["value"]
        for component in observation["component"]
        if "valueQuantity" in component
    }
    assert vitals == {"8480-6": 165, "8462-4": 112, "8867-4": 88}


async def test_metadata_states_r4_and_each_types_read_and_search(stack: Stack) -> None:
    response = await stack.client.get("/api/fhir/metadata")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/fhir+json"
    statement = validated(response.json())
    assert statement["fhirVersion"] == "4.0.1"
    resources = {item["type"]: item for item in statement["rest"][0]["resource"]}
    assert set(resources) == {
        "ServiceRequest", "Task", "DiagnosticReport", "Observation", "DocumentReference",
        "Appointment", "Schedule", "Slot", "Location",
        "Patient", "Practitioner", "PractitionerRole", "Organization",
    }  # fmt: skip
    for resource in resources.values():
        assert [item["code"] for item in resource["interaction"]] == ["read", "search-type"]
    assert {param["name"] for param in resources["Appointment"]["searchParam"]} == {
        "patient", "practitioner", "status", "date",
    }  # fmt: skip


async def test_others_see_nothing_and_a_patient_only_their_own(region: Region) -> None:
    case_id = region.case["id"]
    own = region.own_request["id"]
    reads = {
        "ServiceRequest": case_id,
        "Task": case_id,
        "DocumentReference": region.attachment["id"],
        "Appointment": region.remote["id"],
        "Observation": region.check_in["id"],
    }
    for outsider in (region.other_medic, region.neurologist, region.other_patient):
        for resource_type, resource_id in reads.items():
            response = await region.get(outsider, f"{resource_type}/{resource_id}")
            assert response.status_code == 404, (outsider.role, resource_type, response.text)
            outcome = validated(response.json())
            assert outcome["issue"][0]["code"] == "not-found"
        for resource_type in ("ServiceRequest", "Task", "DiagnosticReport", "Appointment"):
            bundle = await region.search(outsider, resource_type)
            assert bundle["total"] == 0, (outsider.role, resource_type)
            assert "entry" not in bundle  # FHIR's JSON has no empty arrays
    for resource_type in ("Observation", "DocumentReference"):
        bundle = await region.search(region.other_patient, resource_type)
        assert bundle["total"] == 0
    found = await region.search(region.other_medic, "DocumentReference", patient=region.patient.id)
    assert found["total"] == 0

    patient = region.patient
    assert ids(await region.search(patient, "ServiceRequest")) == [own]
    assert ids(await region.search(patient, "Task", patient=str(patient.id))) == [own]
    assert ids(await region.search(patient, "DiagnosticReport")) == []
    assert (await region.get(patient, f"ServiceRequest/{case_id}")).status_code == 404
    mine = await region.read(patient, f"ServiceRequest/{own}")
    assert mine["subject"]["reference"] == f"Patient/{patient.id}"
    assert mine["subject"]["identifier"]["value"] == "MIS-42-000777"
    assert ids(await region.search(patient, "Observation")) == [region.check_in["id"]]
    visits = [region.in_person["id"], region.remote["id"]]
    assert ids(await region.search(patient, "Appointment")) == visits
    assert ids(await region.search(region.other_patient, "Appointment")) == []

    # The reads were audited as the native reads are, denials too.
    database: Database = region.stack.apps["consult"].state.database
    records = KERNEL_TABLES.audit.records
    query = select(records.c.action, records.c.outcome, records.c.actor_id).where(
        records.c.resource_id == case_id
    )
    async with database.sessionmaker() as session:
        trail = {(row.action, row.outcome, row.actor_id) for row in await session.execute(query)}
    assert ("case.read", "success", str(region.medic.id)) in trail
    assert ("case.read", "denied", str(region.other_medic.id)) in trail


async def test_searches_page_and_filter_by_date_and_status(region: Region) -> None:
    medic, schedule = region.medic, f"Schedule/{region.schedule['id']}"
    params = {"schedule": schedule, "service-type": "remote", "date": "2025-10-22", "_count": "5"}
    native = await region.stack.client.get(
        "/api/scheduling/availability",
        params={"visit_type": "remote", "schedule": region.schedule["id"],
                "from": "2025-10-22T00:00:00Z", "to": "2025-10-23T00:00:00Z"},
        headers=medic.headers,
    )  # fmt: skip
    offered = [_instant(slot["start"]) for slot in native.json()["slots"]]
    seen = await _every_page(region, medic, "Slot", params, page_size=5)
    assert len(seen) == len(set(seen)) == len(offered) > 5
    assert [int(slot_id.rsplit("-", 1)[1]) for slot_id in seen] == [
        int(start.timestamp()) for start in offered
    ]
    visits = [region.in_person["id"], region.remote["id"]]
    assert await _every_page(region, medic, "Appointment", {"_count": "1"}, page_size=1) == visits
    by_deadline = [region.case["id"], region.own_request["id"]]  # urgent, then planned
    assert await _every_page(region, medic, "Task", {"_count": "1"}, page_size=1) == by_deadline

    in_person, remote = region.in_person["id"], region.remote["id"]
    by_date = {
        "ge2025-10-21T03:00:00Z": [in_person, remote],
        "gt2025-10-21": [remote],
        "lt2025-10-28T03:00:00+00:00": [in_person],
        "le2025-10-28T03:00:00Z": [in_person, remote],
        "2025-10": [in_person, remote],
        "2025-10-28": [remote],
        "eq2024": [],
    }
    for value, expected in by_date.items():
        assert ids(await region.search(medic, "Appointment", date=value)) == expected, value
    both = await region.search(medic, "Appointment", date=["ge2025-10-21", "lt2025-10-22"])
    assert ids(both) == [in_person]
    assert ids(await region.search(medic, "Appointment", status="fulfilled,noshow")) == [in_person]
    own, case = region.own_request["id"], region.case["id"]
    assert ids(await region.search(medic, "Task", status="requested")) == [own]
    assert ids(await region.search(medic, "Task", status="completed,cancelled")) == [case]
    assert ids(await region.search(medic, "ServiceRequest", status="active")) == [own]
    reports = await region.search(medic, "DiagnosticReport", status="amended")
    assert reports["total"] == 0


async def test_bad_input_is_a_clear_4xx_operation_outcome(stack: Stack) -> None:
    hospital = await stack.organization(kind="district_hospital")
    medic = await stack.actor("district_medic", hospital)
    schedule = str(uuid.uuid4())
    bad: list[tuple[str, dict[str, Any], int, str | None]] = [
        ("Appointment", {"colour": "blue"}, 400, "colour"),
        ("Appointment", {"date": "yesterday"}, 400, "date"),
        ("Appointment", {"date": "ne2025-10-21"}, 400, "date"),
        ("Appointment", {"status": "booked,bogus"}, 400, "status"),
        ("Appointment", {"patient": "Patient/42"}, 400, "patient"),
        ("Appointment", {"patient:identifier": MIS_REFERENCE}, 400, "patient:identifier"),
        ("Task", {"_count": "-1"}, 400, "_count"),
        ("Task", {"_cursor": "not-ours"}, 400, None),
        ("Task", {"patient": "1", "patient:identifier": "x", "date": "2025-13-01"}, 400, None),
        ("Slot", {"service-type": "remote"}, 400, "schedule"),
        ("Slot", {"schedule": schedule}, 400, "service-type"),
        ("Slot", {"schedule": schedule, "service-type": "remote",
                  "date": ["ge2025-10-20", "lt2026-10-20"]}, 400, "date"),
        ("Location", {"_id": "room-1"}, 400, "_id"),
        (f"Location/{schedule}", {}, 404, None),
        ("Task", {"owner": "Patient/1"}, 400, "owner"),
        ("Patient", {"name:exact": "x"}, 400, "name:exact"),
        ("Patient/1", {}, 404, None),
        ("Task/not-a-uuid", {}, 404, None),
        ("Slot/not-a-slot", {}, 404, None),
        (f"Slot/{schedule}-remote-1760918400", {}, 404, None),
    ]  # fmt: skip
    for path, params, status, expression in bad:
        response = await stack.client.get(f"{FHIR}/{path}", params=params, headers=medic.headers)
        assert response.status_code == status, (path, params, response.text)
        assert response.headers["content-type"] == "application/fhir+json"
        outcome = validated(response.json())
        assert outcome["resourceType"] == "OperationOutcome"
        (issue,) = outcome["issue"]
        assert issue["diagnostics"]
        if expression:
            assert issue["expression"] == [expression], issue
    response = await stack.client.get(f"{FHIR}/Task")
    assert response.status_code == 401
    assert validated(response.json())["issue"][0]["code"] == "login"
