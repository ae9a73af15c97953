"""Callback tasks through the gateway: dropped calls and phone answers, each operator's queue of
those due, attempts with their outcomes, the attempts allowed, and the denials."""

from datetime import timedelta
from typing import Any

import httpx
import pytest

from telemed.samples import sample_resolution
from tests.conftest import Actor
from tests.consult.appeals.conftest import CONSULT, Hotline, at, local
from tests.scheduling.conftest import assert_problem

ANSWER = (
    "The polyclinic's head confirmed the repeat histology is free under OMS; the paid invoice "
    "is withdrawn and the test is booked for 22 October at 10:00."
)


async def schedule(
    hotline: Hotline, appeal_id: str, actor: Actor | None = None, **body: Any
) -> httpx.Response:
    return await hotline.client.post(
        f"{CONSULT}/appeals/{appeal_id}/callbacks",
        json={"reason": "dropped_call"} | body,
        headers=(actor or hotline.operator).headers,
    )


async def scheduled(hotline: Hotline, appeal_id: str, **body: Any) -> dict[str, Any]:
    response = await schedule(hotline, appeal_id, **body)
    assert response.status_code == 201, response.text
    callback: dict[str, Any] = response.json()
    return callback


async def attempt(
    hotline: Hotline,
    callback_id: str,
    outcome: str,
    actor: Actor | None = None,
    *,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return await hotline.client.post(
        f"{CONSULT}/callbacks/{callback_id}/attempts",
        json={"outcome": outcome},
        headers=(actor or hotline.operator).headers | (headers or {}),
    )


async def due(hotline: Hotline, actor: Actor) -> list[str]:
    page = await hotline.read(actor, "/callbacks/due")
    return [item["id"] for item in page["items"]]


async def test_a_dropped_call_is_called_back_by_the_operator_who_lost_it(
    hotline: Hotline,
) -> None:
    appeal = await hotline.filed()
    callback = await scheduled(hotline, appeal["id"])
    assert callback["status"] == "pending"
    assert callback["phone"] == "+7 913 123-45-67"
    assert callback["organization_id"] == hotline.insurer["id"]
    assert callback["assignee_id"] == str(hotline.operator.id)
    assert at(callback["due_at"]) == hotline.clock.now + timedelta(minutes=15)
    assert (callback["attempts"], callback["max_attempts"]) == (0, 3)
    assert await due(hotline, hotline.operator) == []  # not due yet
    hotline.clock.advance(minutes=15)
    assert await due(hotline, hotline.operator) == [callback["id"]]
    assert await due(hotline, hotline.colleague) == []  # kept for the operator who knows the call
    assert await due(hotline, hotline.polyclinic_operator) == []  # another organisation's
    history = await hotline.read(hotline.operator, f"/appeals/{appeal['id']}/history")
    assert history[-1]["kind"] == "callback_scheduled"


async def test_attempts_with_their_outcomes_until_the_patient_is_reached(hotline: Hotline) -> None:
    appeal = await hotline.filed()
    callback = await scheduled(hotline, appeal["id"], due_at=hotline.clock.now.isoformat())
    no_answer = (await attempt(hotline, callback["id"], "no_answer")).json()
    assert (no_answer["status"], no_answer["attempts"], no_answer["last_outcome"]) == (
        "pending",
        1,
        "no_answer",
    )
    assert at(no_answer["due_at"]) == hotline.clock.now + timedelta(minutes=30)
    assert await due(hotline, hotline.operator) == []  # waiting for the retry
    hotline.clock.advance(minutes=30)
    assert await due(hotline, hotline.operator) == [callback["id"]]
    busy = (await attempt(hotline, callback["id"], "busy")).json()
    assert (busy["status"], busy["attempts"]) == ("pending", 2)
    hotline.clock.advance(minutes=30)
    reached = (await attempt(hotline, callback["id"], "reached")).json()
    assert (reached["status"], reached["attempts"]) == ("reached", 3)
    assert reached["closed_at"] is not None
    assert [entry["outcome"] for entry in reached["attempt_log"]] == [
        "no_answer",
        "busy",
        "reached",
    ]
    assert {entry["operator_id"] for entry in reached["attempt_log"]} == {str(hotline.operator.id)}
    assert await due(hotline, hotline.operator) == []
    late = await attempt(hotline, callback["id"], "busy")
    assert assert_problem(late, 409)["current_status"] == "reached"
    history = await hotline.read(hotline.operator, f"/appeals/{appeal['id']}/history")
    assert [event["note"] for event in history if event["kind"] == "callback_attempted"] == [
        "no_answer, attempt 1 of 3",
        "busy, attempt 2 of 3",
        "reached, attempt 3 of 3",
    ]


async def test_the_callback_fails_when_the_attempts_allowed_are_spent(hotline: Hotline) -> None:
    appeal = await hotline.filed()
    callback = await scheduled(hotline, appeal["id"], due_at=hotline.clock.now.isoformat())
    for outcome in ("no_answer", "busy", "no_answer"):
        result = (await attempt(hotline, callback["id"], outcome)).json()
        hotline.clock.advance(minutes=30)
    assert (result["status"], result["attempts"]) == ("failed", 3)
    assert result["closed_at"] is not None
    assert await due(hotline, hotline.operator) == []
    assert_problem(await attempt(hotline, callback["id"], "reached"), 409)


async def test_a_retry_after_closing_waits_for_the_next_opening(hotline: Hotline) -> None:
    hotline.clock.now = local("2025-10-25T19:40")  # Saturday evening at the contact centre
    appeal = await hotline.filed()
    callback = await scheduled(hotline, appeal["id"])
    assert at(callback["due_at"]) == local("2025-10-25T19:55")  # still today
    hotline.clock.now = local("2025-10-25T19:50")
    retried = (await attempt(hotline, callback["id"], "no_answer")).json()
    assert at(retried["due_at"]) == local("2025-10-27T08:00")  # not at 20:20 on Saturday


async def test_a_phone_appeal_resolved_later_is_answered_by_a_call(hotline: Hotline) -> None:
    appeal = await hotline.filed()
    await hotline.done(
        hotline.polyclinic_operator,
        appeal["id"],
        "resolve",
        sample_resolution(answer=ANSWER, first_contact_resolution=False),
    )
    [callback] = await hotline.read(hotline.operator, f"/appeals/{appeal['id']}/callbacks")
    assert callback["reason"] == "phone_answer"
    assert callback["organization_id"] == hotline.polyclinic["id"]  # whose answer it is
    assert callback["assignee_id"] is None
    hotline.clock.advance(minutes=15)
    assert await due(hotline, hotline.polyclinic_operator) == [callback["id"]]
    assert await due(hotline, hotline.operator) == []
    # The insurer's operators see it on the appeal but do not make the polyclinic's call.
    assert_problem(await attempt(hotline, callback["id"], "reached"), 403)
    done = await attempt(hotline, callback["id"], "reached", hotline.polyclinic_operator)
    assert done.json()["status"] == "reached"


@pytest.mark.parametrize(
    ("channel", "answer_by_phone", "calls"),
    [
        ("chat", None, []),  # answered in writing, in the chat
        ("chat", True, ["phone_answer"]),  # the patient asked to be called
        ("phone", False, []),  # they heard it on the callback already
    ],
)
async def test_whether_the_answer_is_given_by_phone(
    hotline: Hotline, channel: str, answer_by_phone: bool | None, calls: list[str]
) -> None:
    appeal = await hotline.filed(channel=channel)
    body = sample_resolution(
        answer=ANSWER, first_contact_resolution=False, answer_by_phone=answer_by_phone
    )
    await hotline.done(hotline.operator, appeal["id"], "resolve", body)
    found = await hotline.read(hotline.operator, f"/appeals/{appeal['id']}/callbacks")
    assert [callback["reason"] for callback in found] == calls


async def test_an_answer_by_phone_needs_a_number(hotline: Hotline) -> None:
    appeal = await hotline.filed(hotline.patient, channel="web", region="42", contact={"name": "A"})
    body = sample_resolution(answer=ANSWER, first_contact_resolution=False, answer_by_phone=True)
    assert_problem(await hotline.act(hotline.operator, appeal["id"], "resolve", body), 422)
    assert (await hotline.read(hotline.operator, f"/appeals/{appeal['id']}"))["status"] == "routed"


async def test_an_appeal_that_is_over_cancels_its_pending_calls(hotline: Hotline) -> None:
    appeal = await hotline.filed()
    callback = await scheduled(hotline, appeal["id"])
    await hotline.done(hotline.operator, appeal["id"], "close", {"reason": "Called back in."})
    [cancelled] = await hotline.read(hotline.operator, f"/appeals/{appeal['id']}/callbacks")
    assert (cancelled["id"], cancelled["status"]) == (callback["id"], "cancelled")
    hotline.clock.advance(hours=1)
    assert await due(hotline, hotline.operator) == []
    assert_problem(await schedule(hotline, appeal["id"]), 409)


async def test_the_due_queue_is_earliest_first_and_paginates(hotline: Hotline) -> None:
    appeal = await hotline.filed()
    now = hotline.clock.now
    ids = [
        (await scheduled(hotline, appeal["id"], due_at=(now - timedelta(minutes=m)).isoformat()))[
            "id"
        ]
        for m in (5, 30, 10)
    ]
    first = await hotline.read(hotline.operator, "/callbacks/due", limit=2)
    rest = await hotline.read(hotline.operator, "/callbacks/due", cursor=first["next_cursor"])
    assert [item["id"] for item in first["items"] + rest["items"]] == [ids[1], ids[2], ids[0]]
    assert rest["next_cursor"] is None


async def test_an_attempt_retried_with_its_key_counts_once(hotline: Hotline) -> None:
    appeal = await hotline.filed()
    callback = await scheduled(hotline, appeal["id"], due_at=hotline.clock.now.isoformat())
    key = {"Idempotency-Key": f"attempt-{callback['id']}-1"}
    first = await attempt(hotline, callback["id"], "no_answer", headers=key)
    again = await attempt(hotline, callback["id"], "no_answer", headers=key)
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    [stored] = await hotline.read(hotline.operator, f"/appeals/{appeal['id']}/callbacks")
    assert stored["attempts"] == 1


async def test_callback_denials(hotline: Hotline) -> None:
    appeal = await hotline.filed(hotline.patient, channel="chat", region="42")
    callback = await scheduled(hotline, appeal["id"], phone="+7 3843 74-00-00")
    assert callback["phone"] == "+7 3843 74-00-00"
    # An operator of another region sees neither the appeal nor its calls.
    assert_problem(await schedule(hotline, appeal["id"], hotline.far_operator), 404)
    assert_problem(await attempt(hotline, callback["id"], "reached", hotline.far_operator), 404)
    assert_problem(
        await hotline.get(hotline.far_operator, f"/appeals/{appeal['id']}/callbacks"), 404
    )
    assert await due(hotline, hotline.far_operator) == []
    # The patient reads their appeal, not the operators' call list, and schedules nothing.
    assert_problem(await schedule(hotline, appeal["id"], hotline.patient), 403)
    assert_problem(await hotline.get(hotline.patient, f"/appeals/{appeal['id']}/callbacks"), 403)
    assert_problem(await hotline.get(hotline.patient, "/callbacks/due"), 403)
    assert_problem(await attempt(hotline, callback["id"], "reached", hotline.patient), 404)
    assert_problem(await hotline.get(hotline.mis, "/callbacks/due"), 403)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"reason": "boredom"}, 422),
        ({"phone": "not a phone"}, 422),
        ({"due_at": "2025-10-20T10:00:00"}, 422),  # no zone
    ],
)
async def test_bad_callback_input_is_a_problem(
    hotline: Hotline, body: dict[str, Any], status: int
) -> None:
    appeal = await hotline.filed()
    assert_problem(await schedule(hotline, appeal["id"], **body), status)


async def test_a_callback_needs_a_number_to_call(hotline: Hotline) -> None:
    appeal = await hotline.filed(
        hotline.patient, channel="chat", region="42", contact={"name": "Anna"}
    )
    assert_problem(await schedule(hotline, appeal["id"]), 422)
    redirected = await hotline.filed(topic="emergency_care")
    assert_problem(await schedule(hotline, redirected["id"]), 409)
    assert_problem(await attempt(hotline, appeal["id"], "reached"), 404)  # not a callback id


async def test_a_dropped_call_is_filed_with_its_callback_in_one_request(hotline: Hotline) -> None:
    """The live-call form's one request: the appeal and its call, retried safely; a call that
    cannot be scheduled leaves the appeal filed and says why."""
    body = hotline.body(
        callback={"reason": "dropped_call", "due_at": hotline.clock.now.isoformat()}
    )
    key = {"Idempotency-Key": "dropped-1"}
    headers = hotline.operator.headers | key
    first = await hotline.client.post(f"{CONSULT}/appeals", json=body, headers=headers)
    again = await hotline.client.post(f"{CONSULT}/appeals", json=body, headers=headers)
    assert first.status_code == again.status_code == 201, first.text
    appeal = first.json()
    assert again.json() == appeal  # a retry: the same appeal and call, nothing new
    callback = appeal["callback"]
    assert (appeal["status"], appeal["callback_refused"]) == ("routed", None)
    assert (callback["appeal_id"], callback["reason"]) == (appeal["id"], "dropped_call")
    assert callback["assignee_id"] == str(hotline.operator.id)
    assert await due(hotline, hotline.operator) == [callback["id"]]
    history = await hotline.read(hotline.operator, f"/appeals/{appeal['id']}/history")
    assert [event["kind"] for event in history][-1] == "callback_scheduled"

    redirected = await hotline.filed(topic="emergency_care", callback={"reason": "dropped_call"})
    assert redirected["status"] == "redirected"
    assert redirected["callback"] is None
    assert "no call is owed" in redirected["callback_refused"]
    assert await hotline.read(hotline.operator, f"/appeals/{redirected['id']}/callbacks") == []
    plain = await hotline.filed()
    assert (plain["callback"], plain["callback_refused"]) == (None, None)
