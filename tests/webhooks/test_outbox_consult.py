"""The consult service's events in its outbox after the real actions through the gateway: a
case submitted, accepted, concluded (by conclusion, amendment or consilium protocol), an appeal
resolved, and escalations (a monitoring threshold's task, the overdue-appeal job); refused
actions leave none. The consult tests' own worlds are used, on the quiet stack."""

import asyncio
from datetime import datetime, timedelta
from typing import Any

from services.common.outbox import EventType
from telemed.samples import sample_resolution
from tests.consult import conftest as consult_fixtures
from tests.consult import test_monitoring as monitoring_tests
from tests.consult.appeals import conftest as appeals_fixtures
from tests.consult.appeals.conftest import Hotline
from tests.consult.appeals.test_appeals import ANSWER
from tests.consult.conftest import World
from tests.consult.test_api import CONCLUSION
from tests.consult.test_consilium import DECISION, opinion
from tests.consult.test_monitoring import NORMAL, Ward
from tests.scheduling.conftest import assert_problem
from tests.webhooks.test_outbox import Feed, quiet_stack  # noqa: F401 - the `stack` fixture

world, hotline, ward = consult_fixtures.world, appeals_fixtures.hotline, monitoring_tests.ward


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def done(world: World, actor: Any, case_id: str, action: str, body: Any = None) -> Any:
    response = await world.act(actor, case_id, action, body)
    assert response.status_code in {200, 201}, response.text
    return response.json()


async def test_a_case_is_announced_submitted_accepted_concluded_and_amended(world: World) -> None:
    feed = Feed(world.stack, "consult")
    case = await world.create(submit=True)
    (submitted,) = await feed.pending()
    assert submitted["type"] == "case.submitted"
    assert submitted["resource"] == {"type": "case", "id": case["id"]}
    assert submitted["organization_ids"] == [world.hospital["id"], world.centre["id"]]
    data = submitted["data"]
    assert (data["status"], data["kind"], data["urgency"], data["specialty"]) == (
        "submitted",
        "doctor_to_doctor",
        "urgent",
        "cardiology",
    )
    assert at(data["due_at"]) == at(case["due_at"])

    # Refused, or beaten to it by a colleague: nothing announced.
    assert_problem(await world.act(world.neurologist, case["id"], "accept"), 404)
    both = await asyncio.gather(
        world.act(world.cardiologist, case["id"], "accept"),
        world.act(world.colleague, case["id"], "accept"),
    )
    assert sorted(response.status_code for response in both) == [200, 409]
    winner = next(r for r in both if r.status_code == 200).json()
    (accepted,) = await feed.of_type(EventType.CASE_ACCEPTED)
    assert accepted["data"]["status"] == "accepted"
    assert at(accepted["data"]["accepted_at"]) == at(winner["accepted_at"])
    specialist = next(
        actor
        for actor in (world.cardiologist, world.colleague)
        if winner["assignee_id"] == str(actor.id)
    )

    await done(world, specialist, case["id"], "start")
    await done(world, specialist, case["id"], "conclusions", {"content": CONCLUSION})
    amendment = {"content": CONCLUSION, "amendment_reason": "Wrong follow-up test."}
    await done(world, specialist, case["id"], "conclusions", amendment)
    events = await feed.pending()
    assert [event["type"] for event in events] == [
        "case.submitted",
        "case.accepted",
        "case.concluded",
        "case.concluded",
    ]
    concluded, amended = (event["data"] for event in events[2:])
    assert (concluded["status"], concluded["answer"], concluded["version"]) == (
        "concluded",
        "conclusion",
        1,
    )
    assert concluded["amends_version"] is None
    assert (amended["version"], amended["amends_version"]) == (2, 1)
    assert {event["resource"]["id"] for event in events} == {case["id"]}
    assert all(e["organization_ids"] == submitted["organization_ids"] for e in events)


async def test_a_consilium_protocol_concludes_the_case_with_an_event(world: World) -> None:
    feed = Feed(world.stack, "consult")
    case = await world.in_progress()
    path = "consilium"
    body = {"agenda": "CABG or PCI?", "invitations": [{"user_id": str(world.neurologist.id)}]}
    (invitation,) = (await done(world, world.cardiologist, case["id"], path, body))["invitations"]
    given = f"{path}/invitations/{invitation['id']}/opinion"
    await done(world, world.neurologist, case["id"], given, opinion("No stroke risk."))
    await feed.drain()
    await done(world, world.cardiologist, case["id"], f"{path}/protocol", {"decision": DECISION})
    (concluded,) = await feed.pending()
    assert concluded["type"] == "case.concluded"
    assert concluded["resource"] == {"type": "case", "id": case["id"]}
    assert (concluded["data"]["status"], concluded["data"]["answer"]) == (
        "concluded",
        "consilium_protocol",
    )


async def test_appeals_resolved_or_escalated_are_announced_to_their_organisation(
    hotline: Hotline,
) -> None:
    feed = Feed(hotline.stack, "consult")
    appeal = await hotline.filed()
    assert await feed.pending() == []  # filing and routing are not announced
    resolve = sample_resolution(answer=ANSWER, actions=["called_head", "arranged_free_care"])
    operator = hotline.polyclinic_operator
    resolved = await hotline.done(operator, appeal["id"], "resolve", resolve)
    (event,) = await feed.pending()
    assert event["type"] == "appeal.resolved"
    assert event["resource"] == {"type": "appeal", "id": appeal["id"]}
    assert event["organization_ids"] == [hotline.polyclinic["id"]]
    data = event["data"]
    assert (data["status"], data["category"], data["channel"]) == (
        "resolved",
        "paid_service_imposition",
        "phone",
    )
    assert data["first_contact_resolution"] is True
    assert at(data["resolved_at"]) == at(resolved["resolved_at"])
    assert (data["result"], data["actions"]) == ("resolved", ["called_head", "arranged_free_care"])
    assert "Sidorova" not in str(event)
    assert ANSWER not in str(event)
    assert "Petrova" not in str(event)  # who did it stays in the API too
    assert_problem(await hotline.act(operator, appeal["id"], "resolve", resolve), 409)
    assert len(await feed.pending()) == 1

    # Left open past its deadline, an appeal is taken to the head of its organisation by the
    # escalation job, once.
    late = await hotline.filed(category="question")
    await feed.drain()
    hotline.clock.now = at(late["due_at"]) + timedelta(minutes=1)
    assert await hotline.escalate() == 1
    assert await hotline.escalate() == 0
    (escalated,) = await feed.pending()
    assert escalated["type"] == "monitoring.escalated"
    assert escalated["resource"] == {"type": "appeal", "id": late["id"]}
    assert escalated["organization_ids"] == [hotline.polyclinic["id"]]
    assert escalated["data"]["escalation"] == "overdue_appeal"
    assert at(escalated["data"]["due_at"]) == at(late["due_at"])


async def test_a_worsening_check_in_announces_the_task_it_creates(ward: Ward) -> None:
    feed = Feed(ward.stack, "consult")
    enrolment = await ward.enrolled()
    calm = await ward.check_in(ward.operator, enrolment["id"], NORMAL)
    assert calm.status_code == 201, calm.text
    high = NORMAL | {"systolic_bp": 146, "diastolic_bp": 94}
    checked = []
    for symptoms in ([], [], ["severe_headache", "visual_disturbance"]):
        ward.clock.advance(hours=1)
        response = await ward.check_in(ward.operator, enrolment["id"], high, symptoms=symptoms)
        assert response.status_code == 201, response.text
        checked.append(response.json())
    worse, covered, severe = checked
    assert covered["task_id"] == worse["task_id"]  # the open visit covers it: no second task
    events = await feed.pending()
    assert [(event["type"], event["data"]["escalation"]) for event in events] == [
        ("monitoring.escalated", "home_visit"),
        ("monitoring.escalated", "ambulance"),
    ]
    home_visit, ambulance = (event["data"] for event in events)
    assert (home_visit["task_id"], home_visit["check_in_id"]) == (worse["task_id"], worse["id"])
    assert (home_visit["urgency"], home_visit["programme"]) == ("urgent", "pregnancy_high_risk")
    assert sorted(home_visit["reasons"]) == sorted(worse["fired_rules"])
    assert (ambulance["task_id"], ambulance["urgency"]) == (severe["task_id"], "emergency")
    for event in events:
        assert event["resource"] == {"type": "monitoring_enrolment", "id": enrolment["id"]}
        assert event["organization_ids"] == [ward.hospital["id"]]
        assert "Ivanova" not in str(event)
        assert "555-01-23" not in str(event)
