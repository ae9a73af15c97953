"""Patients' own requests through the gateway: refused without a fulfilled in-person visit,
routed to the visit's specialist (or their specialty queue while they are on leave), urgent on
a worsening sign, answered in writing or with a remote follow-up, private to their patient,
filed by a coordinator on a patient's behalf, and every read audited."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from services.common.audit import verify_chain
from services.common.db import Database
from services.consult.db import KERNEL_TABLES
from tests.conftest import Actor, Stack, running_stack
from tests.files import samples
from tests.scheduling.conftest import (
    CENTRE_ZONE,
    DISTRICT_ZONE,
    SCHEDULING,
    Clock,
    World,
    assert_problem,
    local,
)

CONSULT = "/api/consult"
# The region's own list, to show it is the configured one that counts.
SIGNS = ["black_stool", "chest_pain", "fainting"]
ANSWER = {
    "findings": "Potassium 5.6 mmol/l on spironolactone 50 mg.",
    "diagnosis_text": "Chronic heart failure, hyperkalaemia",
    "diagnosis_codes": ["I50.0", "E87.5"],
    "recommendations": "Halve spironolactone to 25 mg; repeat potassium in a week.",
}


@pytest.fixture
async def stack(clean_databases: dict[str, str], tmp_path: Path) -> AsyncIterator[Stack]:
    overrides: dict[str, dict[str, Any]] = {
        # The reminder job's periodic runs are pushed away: only the clock the tests set counts.
        "scheduling": {"reminder_interval_seconds": 3600.0},
        "consult": {"worsening_signs": SIGNS},
    }
    async with running_stack(clean_databases, tmp_path, overrides) as running:
        yield running


@dataclass
class Clinic(World):
    """The scheduling tests' world (a regional centre whose cardiologist keeps a schedule, a
    district hospital with its medic and patients) with the hospital's coordinator as the
    hotline operator, and a coordinator of another region."""

    operator: Actor
    far_coordinator: Actor

    def body(self, **overrides: Any) -> dict[str, Any]:
        body = {
            "patient": {
                "reference": "MIS-42-000777",
                "full_name": "Sidorova Maria Petrovna",
                "birth_date": "1958-02-03",
                "sex": "female",
                "insurance_policy": "4250000000000777",
            },
            "specialty": "cardiology",
            "question": "My potassium came back at 5.6; should I keep taking spironolactone?",
        }
        return body | overrides

    async def ask(self, actor: Actor | None = None, **overrides: Any) -> httpx.Response:
        return await self.client.post(
            f"{CONSULT}/patient-requests",
            json=self.body(**overrides),
            headers=(actor or self.patient).headers,
        )

    async def asked(self, actor: Actor | None = None, **overrides: Any) -> dict[str, Any]:
        response = await self.ask(actor, **overrides)
        assert response.status_code == 201, response.text
        case: dict[str, Any] = response.json()
        return case

    async def seen_in_person(self) -> dict[str, Any]:
        """The patient's in-person cardiology visit, booked by the medic and held."""
        return await self.fulfil_first_visit_of(await self.booked(local("2025-10-21", "10:00")))

    async def act_on_case(
        self, actor: Actor, case_id: str, action: str, body: Any = None
    ) -> httpx.Response:
        return await self.client.post(
            f"{CONSULT}/cases/{case_id}/{action}", json=body, headers=actor.headers
        )

    async def acted_on_case(self, actor: Actor, case_id: str, *actions: str) -> dict[str, Any]:
        for action in actions:
            response = await self.act_on_case(actor, case_id, action)
            assert response.status_code == 200, response.text
        case: dict[str, Any] = response.json()
        return case

    async def read(self, actor: Actor, path: str) -> httpx.Response:
        return await self.client.get(path, headers=actor.headers)

    async def upload_photo(self, actor: Actor) -> dict[str, Any]:
        response = await self.client.post(
            "/api/files/files",
            content=samples.jpeg_bytes(),
            params={"name": "potassium 2025-10-25.jpg", "kind": "photo"},
            headers=actor.headers,
        )
        assert response.status_code == 201, response.text
        photo: dict[str, Any] = response.json()
        return photo

    async def audit_trail(self) -> list[tuple[str, str | None, str, str | None]]:
        database: Database = self.stack.apps["consult"].state.database
        records = KERNEL_TABLES.audit.records
        async with database.sessionmaker() as session:
            rows = (await session.execute(select(records).order_by(records.c.id))).mappings()
            trail = [(r["action"], r["actor_id"], r["outcome"], r["resource_id"]) for r in rows]
            assert (await verify_chain(session, KERNEL_TABLES.audit)).intact
        return trail


@pytest.fixture
async def clinic(stack: Stack) -> Clinic:
    clock = Clock()
    stack.apps["scheduling"].state.clock = clock
    centre = await stack.organization(kind="regional_centre", timezone=CENTRE_ZONE)
    hospital = await stack.organization(kind="district_hospital", timezone=DISTRICT_ZONE)
    far_hospital = await stack.organization(kind="district_hospital", region="54")
    people: dict[str, tuple[str, dict[str, Any], str | None]] = {
        "cardiologist": ("specialist", centre, "cardiology"),
        "colleague": ("specialist", centre, "cardiology"),
        "neurologist": ("specialist", centre, "neurology"),
        "medic": ("district_medic", hospital, None),
        "other_medic": ("district_medic", far_hospital, None),
        "coordinator": ("coordinator", centre, None),
        "operator": ("coordinator", hospital, None),
        "far_coordinator": ("coordinator", far_hospital, None),
        "patient": ("patient", hospital, None),
        "other_patient": ("patient", hospital, None),
    }
    actors: dict[str, Any] = {name: await stack.actor(*person) for name, person in people.items()}
    clinic = Clinic(
        stack=stack, clock=clock, centre=centre, hospital=hospital, schedule={}, **actors
    )
    clinic.schedule = await clinic.create_schedule(clinic.cardiologist)
    await clinic.create_schedule(clinic.colleague)
    return clinic


# --- eligibility ----------------------------------------------------------------------------


async def test_without_a_fulfilled_in_person_visit_the_request_is_refused_saying_why(
    clinic: Clinic,
) -> None:
    nothing = assert_problem(await clinic.ask(), 409)
    assert nothing["reason"] == "no_visit"
    assert "A remote request follows an in-person visit" in nothing["detail"]
    assert nothing["book_url"].startswith(
        f"{SCHEDULING}/availability?visit_type=in_person&specialty=cardiology&"
    )
    slots = await clinic.read(clinic.patient, nothing["book_url"])
    assert slots.status_code == 200, slots.text
    assert {slot["specialty"] for slot in slots.json()["slots"]} == {"cardiology"}

    visit = await clinic.booked(local("2025-10-21", "10:00"))
    pending = assert_problem(await clinic.ask(), 409)
    assert pending["reason"] == "visit_not_fulfilled"
    assert "has not taken place yet (booked)" in pending["detail"]

    await clinic.fulfil_first_visit_of(visit)
    elsewhere = assert_problem(await clinic.ask(specialty="neurology"), 409)
    assert elsewhere["reason"] == "other_specialty"
    assert "cardiology only" in elsewhere["detail"]
    listed = await clinic.read(clinic.patient, f"{CONSULT}/patient-requests")
    assert listed.json() == []  # a refusal is never queued

    case = await clinic.asked()
    assert case["kind"] == "patient_request"
    assert case["status"] == "submitted"
    assert case["episode_id"] == visit["episode_id"]
    assert case["patient_id"] == case["requester_id"] == str(clinic.patient.id)
    assert case["target_organization_id"] == clinic.centre["id"]
    assert case["requesting_organization_id"] == clinic.hospital["id"]
    assert case["summary"] is None
    trail = await clinic.audit_trail()
    refused = [row for row in trail if row[0] == "case.create" and row[2] == "failed"]
    assert len(refused) == 3


# --- routing and deadlines ------------------------------------------------------------------


async def test_a_request_goes_to_the_specialist_of_the_visit(clinic: Clinic) -> None:
    await clinic.seen_in_person()
    case = await clinic.asked(mode="video")
    assert case["assignee_id"] == str(clinic.cardiologist.id)
    assert (case["urgency"], case["flagged"], case["mode"]) == ("planned", False, "video")
    submitted = datetime.fromisoformat(case["submitted_at"])
    assert datetime.fromisoformat(case["due_at"]) - submitted > timedelta(days=6)
    queue = await clinic.read(clinic.colleague, f"{CONSULT}/cases")
    assert [item["id"] for item in queue.json()["items"]] == [case["id"]]
    taken = assert_problem(await clinic.act_on_case(clinic.colleague, case["id"], "accept"), 403)
    assert "assigned" in taken["detail"]
    assert_problem(await clinic.act_on_case(clinic.neurologist, case["id"], "accept"), 404)
    accepted = await clinic.acted_on_case(clinic.cardiologist, case["id"], "accept")
    assert accepted["status"] == "accepted"


async def test_while_the_specialist_is_on_leave_the_request_goes_to_the_specialty_queue(
    clinic: Clinic,
) -> None:
    await clinic.seen_in_person()
    leave = {"kind": "unavailable", "start": local("2025-10-19", "00:00"),
             "end": local("2025-11-03", "00:00"), "reason": "Annual leave"}  # fmt: skip
    created = await clinic.client.post(
        f"{SCHEDULING}/schedules/{clinic.schedule['id']}/exceptions",
        json=leave,
        headers=clinic.cardiologist.headers,
    )
    assert created.status_code == 201, created.text
    case = await clinic.asked()
    assert case["assignee_id"] is None
    for specialist in (clinic.cardiologist, clinic.colleague):
        queue = await clinic.read(specialist, f"{CONSULT}/cases")
        assert [item["id"] for item in queue.json()["items"]] == [case["id"]]
    accepted = await clinic.acted_on_case(clinic.colleague, case["id"], "accept", "start")
    assert accepted["assignee_id"] == str(clinic.colleague.id)
    # Follow-ups are the episode's specialist's to plan: the colleague answers in writing.
    refused = await clinic.act_on_case(
        clinic.colleague, case["id"], "follow-up", {"start": local("2025-11-04", "10:00")}
    )
    assert "scheduling service refused" in assert_problem(refused, 409)["detail"]
    answered = await clinic.act_on_case(
        clinic.colleague, case["id"], "conclusions", {"content": ANSWER}
    )
    assert answered.status_code == 201, answered.text


async def test_a_worsening_sign_makes_the_request_urgent_and_flagged(clinic: Clinic) -> None:
    signs = await clinic.read(clinic.patient, f"{CONSULT}/worsening-signs")
    assert signs.json() == {"signs": SIGNS}
    await clinic.seen_in_person()
    unknown = assert_problem(await clinic.ask(worsening_signs=["hiccups"]), 422)
    assert unknown["known_signs"] == SIGNS
    case = await clinic.asked(worsening_signs=["black_stool", "fainting"])
    assert (case["urgency"], case["flagged"]) == ("urgent", True)
    assert case["worsening_signs"] == ["black_stool", "fainting"]
    submitted = datetime.fromisoformat(case["submitted_at"])
    assert datetime.fromisoformat(case["due_at"]) - submitted == timedelta(hours=24)
    queue = await clinic.read(clinic.cardiologist, f"{CONSULT}/cases")
    assert queue.json()["items"][0]["flagged"] is True


# --- answers --------------------------------------------------------------------------------


async def test_a_written_answer_is_signed_and_read_by_the_patient(clinic: Clinic) -> None:
    await clinic.seen_in_person()
    case = await clinic.asked()
    await clinic.acted_on_case(clinic.cardiologist, case["id"], "accept", "start")
    issued = await clinic.act_on_case(
        clinic.cardiologist, case["id"], "conclusions", {"content": ANSWER}
    )
    assert issued.status_code == 201, issued.text
    read = await clinic.read(clinic.patient, f"{CONSULT}/cases/{case['id']}/conclusions/1")
    assert read.json()["signature_valid"] is True
    assert read.json()["content"]["recommendations"] == ANSWER["recommendations"]
    mine = (await clinic.read(clinic.patient, f"{CONSULT}/patient-requests")).json()
    assert [(item["id"], item["status"]) for item in mine] == [(case["id"], "concluded")]
    none = await clinic.act_on_case(
        clinic.cardiologist, case["id"], "follow-up", {"start": local("2025-10-28", "10:00")}
    )
    assert assert_problem(none, 409)["current_status"] == "concluded"


async def test_a_remote_follow_up_is_booked_from_the_request_in_one_step(clinic: Clinic) -> None:
    first = await clinic.seen_in_person()
    case = await clinic.asked(mode="video")
    path = f"{CONSULT}/cases/{case['id']}/follow-up"
    early = await clinic.act_on_case(clinic.cardiologist, case["id"], "follow-up", {"start": "x"})
    assert_problem(early, 422)
    await clinic.acted_on_case(clinic.cardiologist, case["id"], "accept", "start")
    other = str(clinic.other_patient.id)
    taken = await clinic.booked(local("2025-10-28", "10:00"), patient_id=other)
    clash = await clinic.act_on_case(
        clinic.cardiologist, case["id"], "follow-up", {"start": taken["start"]}
    )
    assert "slot is taken" in assert_problem(clash, 409)["detail"]
    unchanged = await clinic.read(clinic.patient, f"{CONSULT}/cases/{case['id']}")
    assert unchanged.json()["status"] == "in_progress"

    body = {"start": local("2025-10-28", "11:00")}
    headers = clinic.cardiologist.headers | {"Idempotency-Key": "follow-up-1"}
    booked = await clinic.client.post(path, json=body, headers=headers)
    assert booked.status_code == 200, booked.text
    answered = booked.json()
    assert answered["status"] == "concluded"
    replay = await clinic.client.post(path, json=body, headers=headers)
    assert replay.json() == answered
    assert replay.headers["idempotent-replayed"] == "true"

    appointment_id = answered["follow_up_appointment_id"]
    visit = await clinic.read(clinic.patient, f"{SCHEDULING}/appointments/{appointment_id}")
    assert visit.status_code == 200, visit.text
    assert visit.json()["visit_type"] == "remote"
    assert visit.json()["status"] == "booked"
    assert visit.json()["episode_id"] == first["episode_id"]
    assert visit.json()["consult_case_id"] == case["id"]
    assert visit.json()["practitioner_id"] == str(clinic.cardiologist.id)
    amend = {"content": ANSWER, "amendment_reason": "Written after all."}
    refused = await clinic.act_on_case(clinic.cardiologist, case["id"], "conclusions", amend)
    assert "follow-up visit" in assert_problem(refused, 409)["detail"]


async def test_the_specialist_asks_for_more_and_the_patient_replies_with_a_photo(
    clinic: Clinic,
) -> None:
    await clinic.seen_in_person()
    case = await clinic.asked()
    await clinic.acted_on_case(clinic.cardiologist, case["id"], "accept")
    question = {"message": "Please send a photo of the full blood test form."}
    asked = await clinic.act_on_case(clinic.cardiologist, case["id"], "request-info", question)
    assert asked.json()["status"] == "info_requested"
    assert_problem(await clinic.act_on_case(clinic.patient, case["id"], "accept"), 403)
    edit = await clinic.client.patch(
        f"{CONSULT}/cases/{case['id']}", json={"question": "?"}, headers=clinic.patient.headers
    )
    assert "not edited" in assert_problem(edit, 403)["detail"]
    photo = await clinic.upload_photo(clinic.patient)
    reply = {"message": "Here it is.", "attachment_ids": [photo["id"]]}
    replied = await clinic.act_on_case(clinic.patient, case["id"], "provide-info", reply)
    assert replied.status_code == 200, replied.text
    assert replied.json()["status"] == "accepted"
    assert replied.json()["attachment_ids"] == [photo["id"]]
    thread = await clinic.read(clinic.cardiologist, f"{CONSULT}/cases/{case['id']}/messages")
    assert [(item["kind"], item["author_role"]) for item in thread.json()] == [
        ("info_request", "specialist"),
        ("info_response", "patient"),
    ]


async def test_the_patients_photo_is_readable_by_the_answering_specialist(
    clinic: Clinic,
) -> None:
    await clinic.seen_in_person()
    photo = await clinic.upload_photo(clinic.patient)
    case = await clinic.asked(attachment_ids=[photo["id"]])
    assert case["attachments"][0]["media_type"] == "image/jpeg"
    content = f"/api/files/files/{photo['id']}/content"
    grant_path = f"{CONSULT}/cases/{case['id']}/attachments/grant"
    for reader in (clinic.patient, clinic.cardiologist):
        granted = await clinic.client.post(grant_path, headers=reader.headers)
        assert granted.status_code == 200, reader.username
        downloaded = await clinic.client.get(
            content, params={"grant": granted.json()["grant"]}, headers=reader.headers
        )
        assert downloaded.status_code == 200, reader.username
        assert downloaded.content == samples.jpeg_bytes()
    for outsider in (clinic.other_patient, clinic.neurologist, clinic.far_coordinator):
        asked = await clinic.client.post(grant_path, headers=outsider.headers)
        assert asked.status_code == 404, outsider.username
        assert (await clinic.read(outsider, content)).status_code == 404, outsider.username
    foreign = await clinic.upload_photo(clinic.other_patient)
    refused = assert_problem(await clinic.ask(attachment_ids=[foreign["id"]]), 422)
    assert refused["file_id"] == foreign["id"]


# --- who sees and acts ----------------------------------------------------------------------


async def test_a_patient_sees_only_their_own_requests(clinic: Clinic) -> None:
    await clinic.seen_in_person()
    case = await clinic.asked()
    await clinic.acted_on_case(clinic.cardiologist, case["id"], "accept", "start")
    await clinic.act_on_case(clinic.cardiologist, case["id"], "conclusions", {"content": ANSWER})
    for path in ("", "/conclusions", "/conclusions/1", "/messages"):
        own = await clinic.read(clinic.patient, f"{CONSULT}/cases/{case['id']}{path}")
        assert own.status_code == 200, path
        assert_problem(
            await clinic.read(clinic.other_patient, f"{CONSULT}/cases/{case['id']}{path}"), 404
        )
    assert (await clinic.read(clinic.other_patient, f"{CONSULT}/patient-requests")).json() == []
    assert_problem(await clinic.act_on_case(clinic.other_patient, case["id"], "cancel"), 404)
    assert_problem(await clinic.read(clinic.patient, f"{CONSULT}/cases"), 403)
    assert_problem(await clinic.read(clinic.medic, f"{CONSULT}/patient-requests"), 403)
    for_another = await clinic.ask(patient_id=str(clinic.other_patient.id))
    assert_problem(for_another, 403)


async def test_a_coordinator_files_a_request_on_the_patients_behalf(clinic: Clinic) -> None:
    await clinic.seen_in_person()
    patient_id = str(clinic.patient.id)
    assert_problem(await clinic.ask(clinic.operator), 422)  # for whom?
    assert_problem(await clinic.ask(clinic.medic, patient_id=patient_id), 403)
    # Not their organisation's patient, by the directory: refused before scheduling is asked.
    elsewhere = await clinic.ask(clinic.far_coordinator, patient_id=patient_id)
    assert assert_problem(elsewhere, 422)["errors"][0]["loc"] == ["body", "patient_id"]
    unknown = await clinic.ask(clinic.operator, patient_id=str(uuid.uuid4()))
    assert assert_problem(unknown, 422)["errors"][0]["loc"] == ["body", "patient_id"]
    case = await clinic.asked(clinic.operator, patient_id=patient_id)
    assert case["requester_id"] == str(clinic.operator.id)
    assert case["patient_id"] == patient_id
    assert case["assignee_id"] == str(clinic.cardiologist.id)
    mine = (await clinic.read(clinic.patient, f"{CONSULT}/patient-requests")).json()
    assert [item["id"] for item in mine] == [case["id"]]
    await clinic.acted_on_case(clinic.cardiologist, case["id"], "accept")
    question = {"message": "Which dose do you take now?"}
    await clinic.act_on_case(clinic.cardiologist, case["id"], "request-info", question)
    answer = {"message": "The patient says 50 mg in the morning (by phone)."}
    replied = await clinic.act_on_case(clinic.operator, case["id"], "provide-info", answer)
    assert replied.json()["status"] == "accepted"
    withdrawn = await clinic.act_on_case(clinic.far_coordinator, case["id"], "cancel")
    assert_problem(withdrawn, 404)


async def test_a_patient_withdraws_a_request(clinic: Clinic) -> None:
    await clinic.seen_in_person()
    case = await clinic.asked()
    withdrawn = await clinic.act_on_case(
        clinic.patient, case["id"], "cancel", {"reason": "Resolved."}
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert (withdrawn.json()["status"], withdrawn.json()["cancel_reason"]) == (
        "cancelled",
        "Resolved.",
    )
    assert_problem(await clinic.act_on_case(clinic.patient, case["id"], "cancel"), 409)
    assert_problem(await clinic.act_on_case(clinic.cardiologist, case["id"], "accept"), 409)


async def test_every_read_of_a_request_is_audited(clinic: Clinic) -> None:
    await clinic.seen_in_person()
    case = await clinic.asked()
    await clinic.acted_on_case(clinic.cardiologist, case["id"], "accept", "start")
    await clinic.act_on_case(clinic.cardiologist, case["id"], "conclusions", {"content": ANSWER})
    reads = [
        (clinic.patient, f"/cases/{case['id']}"),
        (clinic.patient, f"/cases/{case['id']}/conclusions"),
        (clinic.patient, f"/cases/{case['id']}/conclusions/1"),
        (clinic.patient, f"/cases/{case['id']}/messages"),
        (clinic.patient, "/patient-requests"),
        (clinic.cardiologist, f"/cases/{case['id']}"),
        (clinic.other_patient, f"/cases/{case['id']}"),
    ]
    for actor, path in reads:
        await clinic.read(actor, f"{CONSULT}{path}")
    trail = await clinic.audit_trail()
    patient, cardiologist = str(clinic.patient.id), str(clinic.cardiologist.id)
    for action in ("case.read", "conclusion.list", "conclusion.read", "message.list"):
        assert (action, patient, "success", case["id"]) in trail, action
    assert ("case.list", patient, "success", None) in trail
    assert ("case.read", cardiologist, "success", case["id"]) in trail
    assert ("case.read", str(clinic.other_patient.id), "denied", case["id"]) in trail
    assert ("case.create", patient, "success", case["id"]) in trail
