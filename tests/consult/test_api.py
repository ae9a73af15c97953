"""The consult API through the real gateway, for every role: what each may see and do."""

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from services.common.audit import verify_chain
from services.common.db import Database, utcnow
from services.common.pagination import encode_cursor
from services.consult.cases.models import Case, Conclusion
from services.consult.db import KERNEL_TABLES
from tests.conftest import Actor
from tests.consult.conftest import CONSULT, World
from tests.files import samples

CONCLUSION = {
    "findings": "NSTEMI, high GRACE risk.",
    "diagnosis_text": "Acute subendocardial myocardial infarction",
    "diagnosis_codes": ["I21.4"],
    "recommendations": "Transfer to the PCI centre within 24 hours.",
    "recommended_tests": ["troponin in 3 hours"],
    "in_person_visit_needed": True,
    "hospitalisation_needed": True,
}


def consult_db(world: World) -> Database:
    database: Database = world.stack.apps["consult"].state.database
    return database


async def get(world: World, actor: Actor, path: str, **params: Any) -> Any:
    return await world.stack.client.get(f"{CONSULT}{path}", params=params, headers=actor.headers)


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


# --- creating -----------------------------------------------------------------------------


async def test_medic_creates_a_draft_with_a_provisional_deadline(world: World) -> None:
    # As an MIS may send them: the specialty and the ICD-10 code are normalised on the way in.
    summary = world.case_body()["summary"]
    summary["main_diagnosis"] = {"code": "i21.4", "text": "Acute subendocardial MI"}
    body = world.case_body(specialty="Cardiology", summary=summary)
    response = await world.stack.client.post(
        f"{CONSULT}/cases", json=body, headers=world.medic.headers
    )
    assert response.status_code == 201
    case = response.json()
    assert response.headers["location"] == f"{CONSULT}/cases/{case['id']}"
    assert case["status"] == "draft"
    assert case["kind"] == "doctor_to_doctor"
    assert case["specialty"] == "cardiology"
    assert case["region"] == "42"
    assert case["requesting_organization_id"] == world.hospital["id"]
    assert case["requester_id"] == str(world.medic.id)
    assert case["summary"]["main_diagnosis"]["code"] == "I21.4"
    assert case["submitted_at"] is None
    assert case["due_at"] is not None


async def test_create_and_submit_at_once(world: World) -> None:
    case = await world.create(submit=True)
    assert case["status"] == "submitted"
    assert case["submitted_at"] is not None


async def test_create_is_idempotent_with_a_key(world: World) -> None:
    headers = world.medic.headers | {"Idempotency-Key": "case-42-1"}
    body = world.case_body()
    first = await world.stack.client.post(f"{CONSULT}/cases", json=body, headers=headers)
    assert first.status_code == 201
    retry = await world.stack.client.post(f"{CONSULT}/cases", json=body, headers=headers)
    assert retry.status_code == 201
    assert retry.json()["id"] == first.json()["id"]
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.headers["location"] == first.headers["location"]
    other = await world.stack.client.post(
        f"{CONSULT}/cases", json=body | {"question": "Something else?"}, headers=headers
    )
    assert_problem(other, 422)


@pytest.mark.parametrize("who", ["cardiologist", "coordinator", "patient"])
async def test_only_the_requesting_side_creates(world: World, who: str) -> None:
    actor = getattr(world, who)
    response = await world.stack.client.post(
        f"{CONSULT}/cases", json=world.case_body(), headers=actor.headers
    )
    assert_problem(response, 403)


async def test_admin_cannot_create(world: World) -> None:
    assert world.stack.admin is not None
    response = await world.stack.client.post(
        f"{CONSULT}/cases", json=world.case_body(), headers=world.stack.admin.headers
    )
    assert_problem(response, 403)


async def test_api_clients_need_the_write_scope_to_create(world: World) -> None:
    created = await world.create(world.clients["write"], submit=True)
    assert created["requesting_organization_id"] == world.hospital["id"]
    assert created["requester_id"] == str(world.clients["write"].id)
    denied = await world.stack.client.post(
        f"{CONSULT}/cases", json=world.case_body(), headers=world.clients["read"].headers
    )
    assert_problem(denied, 403)


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"target_organization_id": str(uuid.uuid4())}, 404),
        ({"urgency": "whenever"}, 422),
        ({"mode": "telepathy"}, 422),
        ({"specialty": "!"}, 422),
        ({"attachment_ids": ["not-a-uuid"]}, 422),
        ({"unexpected": 1}, 422),
        ({"question": "   "}, 422),
    ],
)
async def test_bad_input_is_a_problem_not_a_500(
    world: World, change: dict[str, Any], status: int
) -> None:
    response = await world.stack.client.post(
        f"{CONSULT}/cases", json=world.case_body(**change), headers=world.medic.headers
    )
    assert_problem(response, status)


@pytest.mark.parametrize("code", ["I21", "I21.4", "J18.9", "E11.65", "i10"])
async def test_icd10_codes_of_the_right_shape_are_accepted(world: World, code: str) -> None:
    body = world.case_body()
    body["summary"]["main_diagnosis"]["code"] = code
    response = await world.stack.client.post(
        f"{CONSULT}/cases", json=body, headers=world.medic.headers
    )
    assert response.status_code == 201, response.text
    assert response.json()["summary"]["main_diagnosis"]["code"] == code.upper()


@pytest.mark.parametrize("code", ["I2", "21.4", "I21.", "I21.456", "II21", "I21-4"])
async def test_malformed_icd10_codes_are_rejected(world: World, code: str) -> None:
    body = world.case_body()
    body["summary"]["accompanying_diagnoses"] = [{"code": code, "text": "x"}]
    response = await world.stack.client.post(
        f"{CONSULT}/cases", json=body, headers=world.medic.headers
    )
    problem = assert_problem(response, 422)
    assert any("accompanying_diagnoses" in issue["loc"] for issue in problem["errors"])


async def test_only_regional_centres_are_consulted(world: World) -> None:
    response = await world.stack.client.post(
        f"{CONSULT}/cases",
        json=world.case_body(target_organization_id=world.hospital["id"]),
        headers=world.medic.headers,
    )
    assert_problem(response, 422)


async def test_birth_date_in_the_future_is_rejected(world: World) -> None:
    body = world.case_body()
    body["patient"]["birth_date"] = (utcnow() + timedelta(days=2)).date().isoformat()
    response = await world.stack.client.post(
        f"{CONSULT}/cases", json=body, headers=world.medic.headers
    )
    assert_problem(response, 422)


# --- reading ------------------------------------------------------------------------------


async def test_a_draft_is_visible_only_to_its_organisation(world: World) -> None:
    case = await world.create()
    for actor in (world.medic, world.clients["read"]):
        assert (await get(world, actor, f"/cases/{case['id']}")).status_code == 200
    assert world.stack.admin is not None
    hidden = [
        world.other_medic,
        world.cardiologist,
        world.coordinator,
        world.patient,
        world.stack.admin,
    ]
    for actor in hidden:
        assert_problem(await get(world, actor, f"/cases/{case['id']}"), 404)


async def test_a_submitted_case_is_visible_to_its_addressees_and_region(world: World) -> None:
    case = await world.create(submit=True)
    path = f"/cases/{case['id']}"
    for actor in (world.medic, world.cardiologist, world.colleague, world.coordinator):
        response = await get(world, actor, path)
        assert response.status_code == 200, actor.role
        assert response.json()["patient"]["full_name"] == "Petrov Ivan Sergeevich"
    assert world.stack.admin is not None
    for actor in (
        world.other_medic,
        world.neurologist,
        world.far_coordinator,
        world.patient,
        world.stack.admin,
    ):
        assert_problem(await get(world, actor, path), 404)


async def test_unknown_and_malformed_ids(world: World) -> None:
    assert_problem(await get(world, world.medic, f"/cases/{uuid.uuid4()}"), 404)
    assert_problem(await get(world, world.medic, "/cases/not-a-uuid"), 422)
    response = await world.act(world.cardiologist, "12345", "accept")
    assert_problem(response, 422)


async def test_api_clients_need_the_read_scope_to_read(world: World) -> None:
    case = await world.create(submit=True)
    assert_problem(await get(world, world.clients["write"], f"/cases/{case['id']}"), 403)
    assert_problem(await get(world, world.clients["write"], "/cases"), 403)


async def test_no_token_is_a_401(world: World) -> None:
    response = await world.stack.client.get(f"{CONSULT}/cases")
    assert response.status_code == 401


# --- the lifecycle ------------------------------------------------------------------------


async def test_full_lifecycle_with_an_information_request(world: World) -> None:
    case = await world.create()
    case_id = case["id"]
    submitted = await world.act(world.medic, case_id, "submit")
    assert submitted.json()["status"] == "submitted"
    assert submitted.json()["submitted_at"] is not None

    accepted = await world.act(world.cardiologist, case_id, "accept")
    assert accepted.status_code == 200
    assert accepted.json()["assignee_id"] == str(world.cardiologist.id)
    assert accepted.json()["accepted_at"] is not None

    started = await world.act(world.cardiologist, case_id, "start")
    assert started.json()["status"] == "in_progress"

    asked = await world.act(
        world.cardiologist, case_id, "request-info", {"message": "Please attach the ECG."}
    )
    assert asked.json()["status"] == "info_requested"
    assert asked.json()["resume_status"] == "in_progress"

    ecg = await world.upload(samples.pdf_bytes(), "ECG on admission.pdf", "ecg")
    edited = await world.stack.client.patch(
        f"{CONSULT}/cases/{case_id}",
        json={"question": "Updated question with ECG.", "attachment_ids": [ecg["id"]]},
        headers=world.medic.headers,
    )
    assert edited.status_code == 200
    assert edited.json()["question"] == "Updated question with ECG."
    assert [item["display_name"] for item in edited.json()["attachments"]] == [
        "ECG on admission.pdf"
    ]

    answered = await world.act(world.medic, case_id, "provide-info", {"message": "Attached."})
    assert answered.json()["status"] == "in_progress"
    assert answered.json()["resume_status"] is None

    thread = (await get(world, world.cardiologist, f"/cases/{case_id}/messages")).json()
    assert [(m["kind"], m["author_role"]) for m in thread] == [
        ("info_request", "specialist"),
        ("info_response", "district_medic"),
    ]


async def test_info_requested_before_acceptance_resumes_to_submitted(world: World) -> None:
    case = await world.create(submit=True)
    await world.act(world.cardiologist, case["id"], "request-info", {"message": "Which ECG?"})
    resumed = await world.act(world.medic, case["id"], "provide-info", {"message": "This one."})
    assert resumed.json()["status"] == "submitted"
    assert resumed.json()["assignee_id"] is None


async def test_illegal_transitions_are_409_naming_the_status(world: World) -> None:
    draft = await world.create()
    start = await world.act(world.medic, draft["id"], "provide-info", {"message": "x"})
    problem = assert_problem(start, 409)
    assert problem["current_status"] == "draft"
    assert "draft" in problem["detail"]

    case = await world.in_progress()
    again = await world.act(world.cardiologist, case["id"], "accept")
    assert assert_problem(again, 409)["current_status"] == "in_progress"
    submit = await world.act(world.medic, case["id"], "submit")
    assert assert_problem(submit, 409)["current_status"] == "in_progress"


async def test_a_taken_case_belongs_to_its_assignee(world: World) -> None:
    case = await world.create(submit=True)
    await world.act(world.cardiologist, case["id"], "accept")
    assert_problem(await world.act(world.colleague, case["id"], "accept"), 409)
    for action, body in [("start", None), ("decline", {"reason": "mine now"})]:
        assert_problem(await world.act(world.colleague, case["id"], action, body), 403)
    assert_problem(await world.act(world.medic, case["id"], "start"), 403)
    assert_problem(await world.act(world.coordinator, case["id"], "start"), 403)
    assert_problem(await world.act(world.neurologist, case["id"], "start"), 404)


async def test_two_specialists_accepting_at_once_only_one_wins(world: World) -> None:
    case = await world.create(submit=True)
    responses = await asyncio.gather(
        world.act(world.cardiologist, case["id"], "accept"),
        world.act(world.colleague, case["id"], "accept"),
    )
    assert sorted(r.status_code for r in responses) == [200, 409]
    winner = next(r for r in responses if r.status_code == 200).json()["assignee_id"]
    stored = (await get(world, world.medic, f"/cases/{case['id']}")).json()
    assert stored["assignee_id"] == winner


async def test_decline_needs_a_reason_and_closes_the_case(world: World) -> None:
    case = await world.create(submit=True)
    assert_problem(await world.act(world.cardiologist, case["id"], "decline", {}), 422)
    assert_problem(await world.act(world.medic, case["id"], "decline", {"reason": "x"}), 403)
    declined = await world.act(
        world.cardiologist, case["id"], "decline", {"reason": "Ask the cardiac centre."}
    )
    assert declined.json()["status"] == "declined"
    assert declined.json()["decline_reason"] == "Ask the cardiac centre."
    assert declined.json()["closed_at"] is not None
    assert (
        assert_problem(await world.act(world.medic, case["id"], "cancel"), 409)["current_status"]
        == "declined"
    )


async def test_cancel_by_the_requesting_side_only(world: World) -> None:
    case = await world.create(submit=True)
    assert_problem(await world.act(world.cardiologist, case["id"], "cancel"), 403)
    assert_problem(await world.act(world.coordinator, case["id"], "cancel"), 403)
    assert_problem(await world.act(world.clients["read"], case["id"], "cancel"), 403)
    cancelled = await world.act(
        world.clients["rw"], case["id"], "cancel", {"reason": "Transferred by ambulance."}
    )
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancel_reason"] == "Transferred by ambulance."
    # A bodiless cancel works too.
    other = await world.create()
    assert (await world.act(world.medic, other["id"], "cancel")).json()["status"] == "cancelled"


async def test_patch_rules(world: World) -> None:
    draft = await world.create(urgency="planned")
    path = f"{CONSULT}/cases/{draft['id']}"
    client = world.stack.client
    planned_due = draft["due_at"]
    emergency = await client.patch(path, json={"urgency": "emergency"}, headers=world.medic.headers)
    assert emergency.status_code == 200
    assert emergency.json()["due_at"] < planned_due
    for actor in (world.other_medic, world.cardiologist):
        assert_problem(
            await client.patch(path, json={"question": "x?"}, headers=actor.headers), 404
        )
    assert_problem(
        await client.patch(path, json={"urgency": "soon"}, headers=world.medic.headers), 422
    )
    await world.act(world.medic, draft["id"], "submit")
    blocked = await client.patch(path, json={"question": "x?"}, headers=world.medic.headers)
    assert assert_problem(blocked, 409)["current_status"] == "submitted"
    await world.act(world.cardiologist, draft["id"], "request-info", {"message": "More?"})
    rerouted = await client.patch(
        path, json={"specialty": "neurology"}, headers=world.medic.headers
    )
    assert assert_problem(rerouted, 409)["current_status"] == "info_requested"
    by_specialist = await client.patch(
        path, json={"question": "x?"}, headers=world.cardiologist.headers
    )
    assert_problem(by_specialist, 403)


# --- messages -----------------------------------------------------------------------------


async def test_everyone_who_sees_the_case_can_talk(world: World) -> None:
    case = await world.create(submit=True)
    path = f"{CONSULT}/cases/{case['id']}/messages"
    for actor in (world.medic, world.cardiologist, world.coordinator, world.clients["write"]):
        response = await world.stack.client.post(
            path, json={"text": f"from {actor.role}"}, headers=actor.headers
        )
        assert response.status_code == 201, response.text
        assert response.json()["author_id"] == str(actor.id)
    assert world.stack.admin is not None
    for actor in (world.other_medic, world.neurologist, world.patient, world.stack.admin):
        denied = await world.stack.client.post(path, json={"text": "hi"}, headers=actor.headers)
        assert_problem(denied, 404)
    assert_problem(
        await world.stack.client.post(
            path, json={"text": "hi"}, headers=world.clients["read"].headers
        ),
        403,
    )
    assert_problem(
        await world.stack.client.post(path, json={"text": ""}, headers=world.medic.headers), 422
    )
    thread = (await get(world, world.coordinator, f"/cases/{case['id']}/messages")).json()
    assert [m["text"] for m in thread] == [
        "from district_medic",
        "from specialist",
        "from coordinator",
        "from api_client",
    ]
    assert_problem(await get(world, world.far_coordinator, f"/cases/{case['id']}/messages"), 404)


async def test_message_post_is_idempotent(world: World) -> None:
    case = await world.create(submit=True)
    path = f"{CONSULT}/cases/{case['id']}/messages"
    headers = world.medic.headers | {"Idempotency-Key": "msg-1"}
    first = await world.stack.client.post(path, json={"text": "once"}, headers=headers)
    again = await world.stack.client.post(path, json={"text": "once"}, headers=headers)
    assert again.json()["id"] == first.json()["id"]
    assert len((await get(world, world.medic, f"/cases/{case['id']}/messages")).json()) == 1


# --- conclusions --------------------------------------------------------------------------


async def issue(world: World, actor: Actor, case_id: str, **body: Any) -> Any:
    return await world.stack.client.post(
        f"{CONSULT}/cases/{case_id}/conclusions",
        json={"content": CONCLUSION} | body,
        headers=actor.headers,
    )


async def test_conclusion_is_signed_concludes_and_can_be_amended(world: World) -> None:
    case = await world.in_progress()
    case_id = case["id"]
    issued = await issue(world, world.cardiologist, case_id)
    assert issued.status_code == 201, issued.text
    first = issued.json()
    assert issued.headers["location"] == f"{CONSULT}/cases/{case_id}/conclusions/1"
    assert first["version"] == 1
    assert first["signature_valid"] is True
    assert first["author_id"] == str(world.cardiologist.id)
    assert len(first["content_sha256"]) == 64
    concluded = (await get(world, world.medic, f"/cases/{case_id}")).json()
    assert concluded["status"] == "concluded"
    assert concluded["concluded_at"] is not None

    no_reason = await issue(world, world.cardiologist, case_id)
    assert_problem(no_reason, 422)
    amended = await issue(
        world, world.cardiologist, case_id, amendment_reason="Wrong follow-up test."
    )
    assert amended.status_code == 201
    assert amended.json()["version"] == 2
    assert amended.json()["amends_version"] == 1
    assert amended.json()["signature_valid"] is True

    versions = (await get(world, world.medic, f"/cases/{case_id}/conclusions")).json()
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["content_sha256"] == first["content_sha256"]  # the original is kept
    for actor in (world.medic, world.coordinator, world.clients["read"], world.colleague):
        one = await get(world, actor, f"/cases/{case_id}/conclusions/1")
        assert one.status_code == 200
        assert one.json()["signature_valid"] is True
    assert_problem(await get(world, world.medic, f"/cases/{case_id}/conclusions/3"), 404)
    assert_problem(await get(world, world.medic, f"/cases/{case_id}/conclusions/0"), 422)
    assert world.stack.admin is not None
    for actor in (world.stack.admin, world.patient, world.other_medic, world.neurologist):
        assert_problem(await get(world, actor, f"/cases/{case_id}/conclusions"), 404)
        assert_problem(await get(world, actor, f"/cases/{case_id}/conclusions/1"), 404)


async def test_only_the_assignee_concludes_and_only_when_in_progress(world: World) -> None:
    submitted = await world.create(submit=True)
    problem = assert_problem(await issue(world, world.cardiologist, submitted["id"]), 409)
    assert problem["current_status"] == "submitted"
    case = await world.in_progress()
    for actor in (world.colleague, world.medic, world.coordinator):
        assert_problem(await issue(world, actor, case["id"]), 403)
    assert_problem(await issue(world, world.cardiologist, case["id"], amendment_reason="x"), 422)
    bad = {"content": CONCLUSION | {"diagnosis_codes": ["bogus"]}}
    response = await world.stack.client.post(
        f"{CONSULT}/cases/{case['id']}/conclusions", json=bad, headers=world.cardiologist.headers
    )
    assert_problem(response, 422)
    await issue(world, world.cardiologist, case["id"])
    assert_problem(await issue(world, world.colleague, case["id"], amendment_reason="x"), 403)


async def test_a_tampered_conclusion_fails_verification(world: World) -> None:
    case = await world.in_progress()
    await issue(world, world.cardiologist, case["id"])
    async with consult_db(world).sessionmaker() as session:
        stored = (await session.scalars(select(Conclusion))).one()
        await session.execute(
            update(Conclusion)
            .where(Conclusion.id == stored.id)
            .values(content=stored.content | {"hospitalisation_needed": False})
        )
        await session.commit()
    response = await get(world, world.medic, f"/cases/{case['id']}/conclusions/1")
    assert response.json()["content"]["hospitalisation_needed"] is False
    assert response.json()["signature_valid"] is False


async def test_signing_keys_are_published(world: World) -> None:
    case = await world.in_progress()
    key_id = (await issue(world, world.cardiologist, case["id"])).json()["key_id"]
    keys = (await get(world, world.medic, "/conclusion-keys")).json()["keys"]
    assert [key["kid"] for key in keys] == [key_id]
    assert keys[0]["crv"] == "Ed25519"


# --- the queue ----------------------------------------------------------------------------


async def test_queue_is_ordered_by_deadline_and_paginates(world: World) -> None:
    made = [
        await world.create(submit=True, urgency=urgency)
        for urgency in ("planned", "urgent", "emergency", "urgent", "planned")
    ]
    await world.create()  # a draft: not in the specialist's queue
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await get(world, world.cardiologist, "/cases", **params)).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(c["id"] for c in seen) == sorted(c["id"] for c in made)
    assert [c["due_at"] for c in seen] == sorted(c["due_at"] for c in seen)
    assert seen[0]["urgency"] == "emergency"
    assert "patient" not in seen[0]  # the queue carries no clinical content
    medic_view = (await get(world, world.medic, "/cases")).json()["items"]
    assert len(medic_view) == 6
    assert len((await get(world, world.coordinator, "/cases")).json()["items"]) == 5
    for actor in (world.other_medic, world.neurologist, world.far_coordinator):
        assert (await get(world, actor, "/cases")).json()["items"] == []


async def test_queue_filters(world: World) -> None:
    first = await world.create(submit=True)
    await world.create(submit=True)
    await world.act(world.cardiologist, first["id"], "accept")
    accepted = (await get(world, world.cardiologist, "/cases", status="accepted")).json()
    assert [c["id"] for c in accepted["items"]] == [first["id"]]
    both = await world.stack.client.get(
        f"{CONSULT}/cases?status=accepted&status=submitted", headers=world.cardiologist.headers
    )
    assert len(both.json()["items"]) == 2
    other = (await get(world, world.medic, "/cases", specialty="neurology")).json()
    assert other["items"] == []


async def test_overdue_filter_and_count(world: World) -> None:
    late = await world.create(submit=True, urgency="emergency")
    late_draft = await world.create(urgency="emergency")
    late_closed = await world.create(submit=True, urgency="emergency")
    await world.create(submit=True, urgency="emergency")
    await world.act(world.medic, late_closed["id"], "cancel")
    past = utcnow() - timedelta(hours=1)
    async with consult_db(world).sessionmaker() as session:
        ids = [uuid.UUID(c["id"]) for c in (late, late_draft, late_closed)]
        await session.execute(update(Case).where(Case.id.in_(ids)).values(due_at=past))
        await session.commit()
    overdue = (await get(world, world.cardiologist, "/cases", overdue="true")).json()["items"]
    assert [c["id"] for c in overdue] == [late["id"]]
    assert overdue[0]["overdue"] is True
    count = await get(world, world.cardiologist, "/cases/overdue-count")
    assert count.json() == {"overdue": 1}
    assert (await get(world, world.medic, "/cases/overdue-count")).json() == {"overdue": 1}
    assert (await get(world, world.coordinator, "/cases/overdue-count")).json() == {"overdue": 1}
    assert (await get(world, world.neurologist, "/cases/overdue-count")).json() == {"overdue": 0}
    assert (await get(world, world.medic, f"/cases/{late['id']}")).json()["overdue"] is True


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "garbage!"},
        {"cursor": "W10"},
        {"cursor": encode_cursor(utcnow(), uuid.uuid4())[:-3]},
    ],
)
async def test_malformed_cursor_is_a_400(world: World, params: dict[str, str]) -> None:
    assert_problem(await get(world, world.cardiologist, "/cases", **params), 400)


@pytest.mark.parametrize(
    "params", [{"limit": "0"}, {"limit": "1000"}, {"status": "lost"}, {"overdue": "maybe"}]
)
async def test_bad_queue_parameters_are_422(world: World, params: dict[str, str]) -> None:
    assert_problem(await get(world, world.cardiologist, "/cases", **params), 422)


async def test_admins_and_patients_have_no_queue(world: World) -> None:
    assert world.stack.admin is not None
    for actor in (world.stack.admin, world.patient):
        assert_problem(await get(world, actor, "/cases"), 403)
        assert_problem(await get(world, actor, "/cases/overdue-count"), 403)


# --- audit and documentation --------------------------------------------------------------


async def test_reads_writes_and_denials_are_audited(world: World) -> None:
    case = await world.create(submit=True)
    await get(world, world.cardiologist, f"/cases/{case['id']}")
    await get(world, world.other_medic, f"/cases/{case['id']}")
    await get(world, world.cardiologist, "/cases")
    await get(world, world.medic, f"/cases/{case['id']}/messages")
    records = KERNEL_TABLES.audit.records
    async with consult_db(world).sessionmaker() as session:
        rows = (await session.execute(select(records).order_by(records.c.seq))).mappings().all()
        chain = await verify_chain(session, KERNEL_TABLES.audit)
    trail = [(r["action"], r["actor_id"], r["outcome"]) for r in rows]
    assert ("case.create", str(world.medic.id), "success") in trail
    assert ("case.submit", str(world.medic.id), "success") in trail
    assert ("case.read", str(world.cardiologist.id), "success") in trail
    assert ("case.read", str(world.other_medic.id), "denied") in trail
    assert ("case.list", str(world.cardiologist.id), "success") in trail
    assert ("message.list", str(world.medic.id), "success") in trail
    assert all(r["resource_type"] == "consult_case" for r in rows)
    assert chain.intact


def test_openapi_documents_every_endpoint(world: World) -> None:
    schema = world.stack.apps["consult"].openapi()
    paths = schema["paths"]
    expected = {
        ("post", "/api/consult/cases"),
        ("get", "/api/consult/cases"),
        ("get", "/api/consult/cases/overdue-count"),
        ("get", "/api/consult/cases/{case_id}"),
        ("patch", "/api/consult/cases/{case_id}"),
        ("get", "/api/consult/cases/{case_id}/messages"),
        ("post", "/api/consult/cases/{case_id}/messages"),
        ("post", "/api/consult/cases/{case_id}/conclusions"),
        ("get", "/api/consult/cases/{case_id}/conclusions"),
        ("get", "/api/consult/cases/{case_id}/conclusions/{version}"),
        ("post", "/api/consult/cases/{case_id}/attachments/grant"),
    } | {
        ("post", f"/api/consult/cases/{{case_id}}/{action}")
        for action in (
            "submit",
            "accept",
            "start",
            "request-info",
            "provide-info",
            "decline",
            "cancel",
        )
    }
    for method, path in expected:
        operation = paths[path][method]
        assert operation["summary"], path
        assert operation["tags"], path
        assert "404" in operation["responses"] or path.endswith(("/cases", "overdue-count"))
    assert paths["/api/consult/cases/{case_id}/accept"]["post"]["responses"]["409"]
