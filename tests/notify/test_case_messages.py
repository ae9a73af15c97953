"""Consult's case events become messages to doctors, through the real relay: an emergency or
urgent case to the specialists who may take it, a request for information and a conclusion to
the case's author, a deadline coming close (the consult job's `case.deadline_soon`, once per
case) to the specialist who has the case or, before anyone does, to the specialty's."""

import uuid
from datetime import datetime, timedelta
from typing import Any

from gateway.notify.enums import Template
from services.common.outbox import EventType
from services.consult.cases.deadlines import warn_deadlines
from services.consult.db import KERNEL_TABLES
from tests.conftest import Stack
from tests.consult import conftest as consult_fixtures
from tests.consult import test_patient_requests as patient_request_tests
from tests.consult.conftest import World
from tests.consult.test_api import CONCLUSION
from tests.consult.test_patient_requests import Clinic
from tests.notify.producing import (
    messages,
    producers_stack,  # noqa: F401 - the `stack` fixture
    relay_once,
    utc,
)
from tests.webhooks.test_outbox import Feed

world, clinic = consult_fixtures.world, patient_request_tests.clinic
ZONE = "Asia/Novokuznetsk"  # the stack's organisations'
HOUR = timedelta(hours=1)


def told(found: list[Any]) -> set[tuple[uuid.UUID, Template]]:
    return {(message.recipient_id, message.template) for message in found}


async def done(world: World, actor: Any, case_id: str, action: str, body: Any = None) -> Any:
    response = await world.act(actor, case_id, action, body)
    assert response.status_code in {200, 201}, response.text
    return response.json()


def link(stack: Stack, case_id: str) -> str:
    return f"{stack.apps['gateway'].state.settings.public_url}/cases/{case_id}"


async def test_an_urgent_case_goes_to_the_specialists_who_may_take_it(world: World) -> None:
    stack = world.stack
    urgent = await world.create(submit=True)  # cardiology, urgent
    await world.create(submit=True, urgency="planned")
    await world.create(submit=False, urgency="emergency")  # a draft is nobody's yet
    assert await relay_once(stack, "consult") == 2
    found = await messages(stack)
    cardiologists = {world.cardiologist.id, world.colleague.id}
    assert told(found) == {(who, Template.CASE_NEW_URGENT) for who in cardiologists}
    assert found[0].params == {
        "case_id": urgent["id"],
        "case_link": link(stack, urgent["id"]),
        "urgency": "urgent",
        "specialty": "cardiology",
        "deadline": utc(urgent["due_at"]),
        "timezone": ZONE,
    }
    assert "Petrov" not in str([message.params for message in found])


async def test_the_author_hears_of_a_request_for_information_and_of_the_conclusion(
    world: World,
) -> None:
    stack = world.stack
    case = await world.in_progress()
    await relay_once(stack, "consult")
    urgent = len(await messages(stack))
    asked = {"message": "Please attach the ECG taken on admission."}
    await done(world, world.cardiologist, case["id"], "request-info", asked)
    (requested,) = await Feed(stack, "consult").of_type(EventType.CASE_INFO_REQUESTED)
    assert requested["data"]["author_id"] == str(world.medic.id)
    assert "ECG" not in str(requested)
    await done(world, world.medic, case["id"], "provide-info", {"message": "Attached."})
    await done(world, world.cardiologist, case["id"], "conclusions", {"content": CONCLUSION})
    await relay_once(stack, "consult")
    info, conclusion = (await messages(stack))[urgent:]
    assert [(info.recipient_id, info.template), (conclusion.recipient_id, conclusion.template)] == [
        (world.medic.id, Template.CASE_INFO_REQUESTED),
        (world.medic.id, Template.CASE_CONCLUSION_READY),
    ]
    expected = {
        "case_id": case["id"],
        "case_link": link(stack, case["id"]),
        "specialty": "cardiology",
    }
    assert info.params == conclusion.params == expected


async def test_a_deadline_coming_close_is_announced_once_to_whoever_has_the_case(
    world: World,
) -> None:
    stack = world.stack
    consult = stack.apps["consult"]
    taken = await world.in_progress()  # the cardiologist has it
    waiting = await world.create(submit=True)  # nobody has it yet
    due = datetime.fromisoformat(taken["due_at"])
    await relay_once(stack, "consult")
    before = len(await messages(stack))

    async def warn(now: datetime) -> int:
        return await warn_deadlines(consult.state.database, KERNEL_TABLES.audit, HOUR, now)

    assert await warn(due - HOUR - timedelta(minutes=5)) == 0
    assert await warn(due - timedelta(minutes=30)) == 2
    assert await warn(due - timedelta(minutes=20)) == 0  # once per case
    events = await Feed(stack, "consult").of_type(EventType.CASE_DEADLINE_SOON)
    assert sorted(event["resource"]["id"] for event in events) == sorted(
        [taken["id"], waiting["id"]]
    )
    # The marker changes nothing an editor sees: the case's version is as it was.
    read = await stack.client.get(f"/api/consult/cases/{taken['id']}", headers=world.medic.headers)
    assert read.json()["version"] == taken["version"]

    await relay_once(stack, "consult")
    found = (await messages(stack))[before:]
    assert told([m for m in found if m.params["case_id"] == taken["id"]]) == {
        (world.cardiologist.id, Template.CASE_DEADLINE_SOON)
    }
    assert told([m for m in found if m.params["case_id"] == waiting["id"]]) == {
        (world.cardiologist.id, Template.CASE_DEADLINE_SOON),
        (world.colleague.id, Template.CASE_DEADLINE_SOON),
    }
    mine = next(m for m in found if m.params["case_id"] == taken["id"])
    assert mine.params == {
        "case_id": taken["id"],
        "case_link": link(stack, taken["id"]),
        "deadline": utc(taken["due_at"]),
        "timezone": ZONE,
    }


async def test_an_urgent_request_routed_to_its_specialist_goes_to_them_alone(
    clinic: Clinic,
) -> None:
    """A patient's request with a worsening sign is urgent, and routed to the specialist who
    saw them: only they may take it, so only they are told."""
    stack = clinic.stack
    await clinic.seen_in_person()
    case = await clinic.asked(worsening_signs=["chest_pain"])
    assert (case["urgency"], case["assignee_id"]) == ("urgent", str(clinic.cardiologist.id))
    await relay_once(stack, "consult", "scheduling")
    urgent = [m for m in await messages(stack) if m.template is Template.CASE_NEW_URGENT]
    assert told(urgent) == {(clinic.cardiologist.id, Template.CASE_NEW_URGENT)}
    assert urgent[0].params["case_link"] == link(stack, case["id"])
