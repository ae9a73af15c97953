"""A home-visit call's life: filed by an operator, a registry or a serving call centre, assigned
by the polyclinic to one of its nurses, done or cancelled with a reason; illegal steps are 409s
naming the state, the unseen get 404s, and every read and change is on the audit trail."""

import uuid
from typing import Any

from sqlalchemy import func, select

from services.consult.db import KERNEL_TABLES
from services.consult.home_visits.models import HomeVisit
from tests.consult.home_visits.conftest import Calls
from tests.scheduling.conftest import assert_problem


async def audited(calls: Calls, visit_id: str) -> list[tuple[str, str, str]]:
    records = KERNEL_TABLES.audit.records
    query = (
        select(records.c.action, records.c.outcome, records.c.actor_id)
        .where(records.c.resource_type == "home_visit", records.c.resource_id == visit_id)
        .order_by(records.c.id)
    )
    async with calls.database.sessionmaker() as session:
        return [(row[0], row[1], str(row[2])) for row in (await session.execute(query)).all()]


async def test_the_home_blood_draw_for_a_disabled_woman(calls: Calls) -> None:
    visit = await calls.call(patient_id=str(calls.patient.id))
    assert visit["status"] == "requested"
    assert visit["patient_name"] == "Ковалёва Антонина Семёновна"
    assert visit["urgency"] == "planned"
    # The polyclinic's coordinator sends a nurse; then sends another.
    other_nurse = await calls.stack.actor("district_medic", calls.tashtagol)
    body = {"assignee_id": str(calls.nurse.id)}
    assigned = await calls.step(calls.coordinator, visit["id"], "assign", body)
    assert (assigned["status"], assigned["assignee_id"]) == ("assigned", str(calls.nurse.id))
    assert assigned["assignee_name"].startswith("Test district_medic")
    body = {"assignee_id": str(other_nurse.id)}
    assigned = await calls.step(calls.registrar, visit["id"], "assign", body)
    assert assigned["assignee_id"] == str(other_nurse.id)
    note = {"note": "Blood drawn at 13:10; samples in the laboratory by 14:00."}
    done = await calls.step(other_nurse, visit["id"], "done", note)
    assert done["status"] == "done"
    assert done["done_note"] == note["note"]
    assert done["done_at"] is not None
    # Nothing more happens to a done visit: each refusal names the state.
    for action, step in (("done", note), ("cancel", {"reason": "duplicate"}), ("assign", body)):
        refused = await calls.post(calls.coordinator, f"/home-visits/{visit['id']}/{action}", step)
        assert assert_problem(refused, 409)["current_status"] == "done"
    trail = await audited(calls, visit["id"])
    assert [(action, outcome) for action, outcome, _ in trail] == [
        ("home_visit.create", "success"),
        ("home_visit.assign", "success"),
        ("home_visit.assign", "success"),
        ("home_visit.complete", "success"),
        ("home_visit.complete", "failed"),
        ("home_visit.cancel", "failed"),
        ("home_visit.assign", "failed"),
    ]
    assert trail[0][2] == str(calls.operator.id)


async def test_what_assigning_and_cancelling_take(calls: Calls) -> None:
    visit = await calls.call()
    path = f"/home-visits/{visit['id']}"
    # Only the polyclinic's own staff send its people; the operator who filed it does not.
    assign = {"assignee_id": str(calls.nurse.id)}
    assert_problem(await calls.post(calls.operator, path + "/assign", assign), 403)
    assert_problem(await calls.post(calls.centre_registrar, path + "/assign", assign), 403)
    # A doctor of another polyclinic, a registrar, a stranger: the same 422 naming the field.
    for person in (calls.sheregesh_medic.id, calls.registrar.id, uuid.uuid4()):
        refused = await calls.post(
            calls.coordinator, path + "/assign", {"assignee_id": str(person)}
        )
        assert assert_problem(refused, 422)["errors"][0]["loc"] == ["body", "assignee_id"]
    # Not done before anyone went.
    refused = await calls.post(calls.coordinator, path + "/done", {"note": "Done."})
    assert assert_problem(refused, 409)["current_status"] == "requested"
    # A reason is required, and "other" says what.
    assert_problem(await calls.post(calls.operator, path + "/cancel", {}), 422)
    assert_problem(await calls.post(calls.operator, path + "/cancel", {"reason": "other"}), 422)
    assert_problem(await calls.post(calls.operator, path + "/cancel", {"reason": "later"}), 422)
    # The operator whose caller withdrew cancels it.
    cancelled = await calls.step(
        calls.operator, visit["id"], "cancel", {"reason": "caller_withdrew"}
    )
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "caller_withdrew")
    refused = await calls.post(calls.coordinator, path + "/assign", assign)
    assert assert_problem(refused, 409)["current_status"] == "cancelled"


async def test_who_may_call_a_doctor_home(calls: Calls) -> None:
    # The polyclinic's registry, and the call centre serving it (naming the region it serves).
    assert (await calls.call(calls.registrar))["created_by"] == str(calls.registrar.id)
    served = await calls.call(calls.centre_registrar, region="42")
    assert served["organization_id"] == calls.tashtagol["id"]
    refused = [
        (calls.nurse, {}),  # doctors do not take the calls
        (calls.patient, {}),
        (calls.far_operator, {"region": "42"}),  # another region's operator
        (calls.centre_registrar, {"settlement": "Шерегеш", "region": "42"}),  # not served
    ]
    for actor, change in refused:
        response = await calls.post(actor, "/home-visits", calls.body(**change))
        assert_problem(response, 403)
    invalid = [
        {"urgency": "emergency"},  # the ambulance's
        {"territory": "99999999"},  # no line of the catchment serves it
        {"phone": "call me"},
        {"reason": ""},
        {"patient_id": str(calls.far_patient.id)},  # another region's patient
        {"patient_id": str(calls.nurse.id)},  # no patient
    ]
    for change in invalid:
        assert_problem(await calls.post(calls.operator, "/home-visits", calls.body(**change)), 422)


async def test_only_the_polyclinic_its_call_centres_and_the_region_see_a_visit(
    calls: Calls,
) -> None:
    visit = await calls.call(urgency="urgent")
    later = await calls.call(urgency="planned")
    calls.clock.advance(minutes=5)
    urgent_later = await calls.call(urgency="urgent")
    for actor in (calls.operator, calls.coordinator, calls.registrar, calls.nurse):
        response = await calls.get(actor, f"/home-visits/{visit['id']}")
        assert response.status_code == 200, response.text
    seen = await calls.get(calls.centre_registrar, f"/home-visits/{visit['id']}")
    assert seen.status_code == 200
    admin = calls.stack.admin
    assert admin is not None
    for actor in (calls.far_operator, calls.sheregesh_medic, calls.patient, admin):
        assert_problem(await calls.get(actor, f"/home-visits/{visit['id']}"), 404)
        step = await calls.post(
            actor, f"/home-visits/{visit['id']}/cancel", {"reason": "duplicate"}
        )
        assert_problem(step, 404)
        listed = await calls.get(actor, "/home-visits", organization_id=calls.tashtagol["id"])
        assert_problem(listed, 404)
    assert_problem(await calls.get(calls.operator, f"/home-visits/{uuid.uuid4()}"), 404)
    # The polyclinic's list for its day: urgent calls first, each by when it came.
    listed = await calls.get(calls.nurse, "/home-visits")
    assert listed.status_code == 200, listed.text
    assert listed.json()["visit_day"] == "2025-10-20"
    order = [item["id"] for item in listed.json()["items"]]
    assert order == [visit["id"], urgent_later["id"], later["id"]]
    trail = await audited(calls, visit["id"])
    denied = {actor for action, outcome, actor in trail if outcome == "denied"}
    assert denied == {str(calls.far_operator.id), str(calls.sheregesh_medic.id),
                      str(calls.patient.id), str(admin.id)}  # fmt: skip
    reads = [actor for action, outcome, actor in trail if action == "home_visit.read"]
    assert str(calls.centre_registrar.id) in reads


async def test_a_retried_call_is_filed_once(calls: Calls) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await calls.post(calls.operator, "/home-visits", calls.body(), **key)
    again = await calls.post(calls.operator, "/home-visits", calls.body(), **key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert first.headers["location"] == f"/api/consult/home-visits/{first.json()['id']}"
    async with calls.database.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(HomeVisit)) == 1


async def test_figures_per_polyclinic_day(calls: Calls) -> None:
    visits: list[dict[str, Any]] = [await calls.call() for _ in range(4)]
    body = {"assignee_id": str(calls.nurse.id)}
    for visit in visits[:3]:
        await calls.step(calls.coordinator, visit["id"], "assign", body)
    calls.clock.advance(hours=3)
    await calls.step(calls.nurse, visits[0]["id"], "done", {"note": "Seen."})
    calls.clock.advance(hours=2)
    await calls.step(calls.nurse, visits[1]["id"], "done", {"note": "Seen."})
    await calls.step(calls.coordinator, visits[2]["id"], "cancel", {"reason": "hospitalised"})
    # Called after the cut-off: tomorrow's, on the next day's row.
    await calls.call()
    response = await calls.get(
        calls.registrar,
        "/home-visit-figures",
        organization_id=calls.tashtagol["id"],
        **{"from": "2025-10-20", "to": "2025-10-22"},
    )
    assert response.status_code == 200, response.text
    figures = response.json()
    monday = figures["days"][0]
    assert monday == {
        "day": "2025-10-20",
        "requests": 4,
        "done": 2,
        "cancelled": 1,
        "cancelled_by_reason": {"hospitalised": 1},
        "done_same_day": 2,
        "median_minutes_to_done": 240.0,
    }
    assert [day["requests"] for day in figures["days"]] == [4, 1, 0]
    assert figures["total"]["requests"] == 5
    hidden = await calls.get(
        calls.far_operator,
        "/home-visit-figures",
        organization_id=calls.tashtagol["id"],
        **{"from": "2025-10-20", "to": "2025-10-22"},
    )
    assert_problem(hidden, 404)
    backwards = {"from": "2025-10-22", "to": "2025-10-20"}
    wrong = await calls.get(
        calls.registrar, "/home-visit-figures", organization_id=calls.tashtagol["id"], **backwards
    )
    assert_problem(wrong, 422)
