"""`GET /api/consult/deadlines`: the due time a case would get, by urgency, as submitting gives
it; and the queue's filter by urgency."""

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.consult.cases.settings import DeadlinePolicy
from tests.conftest import Actor
from tests.consult.conftest import CONSULT, World

# A Monday morning in Novokuznetsk (UTC+7), the centre's zone.
MONDAY = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


async def _preview(world: World, actor: Actor, target: str) -> Any:
    return await world.stack.client.get(
        f"{CONSULT}/deadlines", params={"target_organization_id": target}, headers=actor.headers
    )


async def test_each_urgency_gets_the_due_time_submitting_would_give(world: World) -> None:
    world.stack.apps["consult"].state.clock = lambda: MONDAY
    answer = await _preview(world, world.medic, world.centre["id"])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["as_of"] == "2026-03-02T03:00:00Z"
    due = {item["urgency"]: datetime.fromisoformat(item["due_at"]) for item in body["deadlines"]}
    assert list(due) == ["emergency", "urgent", "planned"]
    assert due["emergency"] == MONDAY + timedelta(hours=2)
    assert due["urgent"] == MONDAY + timedelta(hours=24)
    # Seven days on, at the close of the centre's working day in its own zone.
    local = due["planned"].astimezone(ZoneInfo("Asia/Novokuznetsk"))
    assert (local.date().isoformat(), local.hour) == ("2026-03-09", 20)

    # A case submitted gets what was shown for its urgency (as of its own submission).
    before = datetime.now(UTC)
    case = await world.create(submit=True, urgency="emergency")
    submitted = datetime.fromisoformat(case["submitted_at"])
    assert before <= submitted
    assert datetime.fromisoformat(case["due_at"]) == submitted + timedelta(hours=2)


async def test_the_regions_own_policy_is_the_one_shown(world: World) -> None:
    consult = world.stack.apps["consult"]
    consult.state.clock = lambda: MONDAY
    strict = DeadlinePolicy(emergency=timedelta(minutes=30), urgent=timedelta(hours=3))
    consult.state.settings = consult.state.settings.model_copy(
        update={"deadline_policies": {"42": strict}}
    )
    body = (await _preview(world, world.medic, world.centre["id"])).json()
    due = {item["urgency"]: item["due_at"] for item in body["deadlines"]}
    assert due["emergency"] == "2026-03-02T03:30:00Z"
    assert due["urgent"] == "2026-03-02T06:00:00Z"


async def test_the_preview_is_for_those_who_open_cases_and_for_centres(world: World) -> None:
    specialist = await _preview(world, world.cardiologist, world.centre["id"])
    assert specialist.status_code == 403
    assert specialist.headers["content-type"] == "application/problem+json"
    not_a_centre = await _preview(world, world.medic, world.hospital["id"])
    assert not_a_centre.status_code == 422
    unknown = await _preview(world, world.medic, "00000000-0000-4000-8000-000000000000")
    assert unknown.status_code == 404
    anonymous = await world.stack.client.get(
        f"{CONSULT}/deadlines", params={"target_organization_id": world.centre["id"]}
    )
    assert anonymous.status_code == 401


async def test_the_queue_filters_by_urgency(world: World) -> None:
    made = {
        urgency: (await world.create(submit=True, urgency=urgency))["id"]
        for urgency in ("emergency", "urgent", "planned")
    }

    async def listed(*urgencies: str) -> set[str]:
        answer = await world.stack.client.get(
            f"{CONSULT}/cases",
            params=[("urgency", urgency) for urgency in urgencies],
            headers=world.cardiologist.headers,
        )
        assert answer.status_code == 200, answer.text
        return {item["id"] for item in answer.json()["items"]}

    assert await listed("emergency") == {made["emergency"]}
    assert await listed("emergency", "planned") == {made["emergency"], made["planned"]}
    assert await listed() == set(made.values())
    wrong = await world.stack.client.get(
        f"{CONSULT}/cases", params={"urgency": "soon"}, headers=world.cardiologist.headers
    )
    assert wrong.status_code == 422
