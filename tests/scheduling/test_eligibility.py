"""Eligibility for remote follow-ups through the gateway: the first-visit rule asked before any
booking, its reasons, the specialist's leave, who may ask, and the typed client."""

import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from services.common.audit import verify_chain
from services.common.errors import Conflict
from services.scheduling.client import SchedulingClient
from services.scheduling.models import KERNEL_TABLES
from tests.conftest import Actor
from tests.scheduling.conftest import SCHEDULING, World, assert_problem, local


async def eligibility(
    world: World, actor: Actor, patient: Actor | None = None, **params: Any
) -> httpx.Response:
    path = f"/patients/{(patient or world.patient).id}/eligibility"
    return await world.get(actor, path, **({"specialty": "Cardiology"} | params))


async def answer(world: World, actor: Actor, **params: Any) -> dict[str, Any]:
    response = await eligibility(world, actor, **params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_eligible_once_the_in_person_visit_of_the_specialty_is_fulfilled(
    world: World,
) -> None:
    nothing = await answer(world, world.patient)
    assert (nothing["eligible"], nothing["reason"]) == (False, "no_visit")
    assert nothing["episode_id"] is None
    assert nothing["book_url"].startswith(
        f"{SCHEDULING}/availability?visit_type=in_person&specialty=cardiology&from="
    )
    free = await world.client.get(nothing["book_url"], headers=world.patient.headers)
    assert free.status_code == 200, free.text
    assert free.json()["slots"][0]["practitioner_id"] == str(world.cardiologist.id)

    first = await world.booked(local("2025-10-21", "10:00"))
    pending = await answer(world, world.patient)
    assert (pending["eligible"], pending["reason"]) == (False, "visit_not_fulfilled")
    assert pending["visit_status"] == "booked"
    assert "2025-10-21 13:00 (Asia/Vladivostok)" in pending["detail"]  # the patient's time

    await world.fulfil_first_visit_of(first)
    seen = await answer(world, world.patient)
    assert seen["eligible"] is True
    assert seen["reason"] is None
    assert seen["episode_id"] == first["episode_id"]
    assert seen["practitioner_id"] == str(world.cardiologist.id)
    assert seen["organization_id"] == world.centre["id"]
    assert seen["requesting_organization_id"] == world.hospital["id"]
    assert seen["visit_status"] == "fulfilled"
    assert seen["practitioner_away_until"] is None
    assert (await answer(world, world.patient, episode=first["episode_id"]))["eligible"]
    elsewhere = await answer(world, world.patient, episode=str(uuid.uuid4()))
    assert elsewhere["reason"] == "no_visit"

    neurology = await answer(world, world.patient, specialty="neurology")
    assert neurology["reason"] == "other_specialty"
    assert neurology["other_specialties"] == ["cardiology"]


async def test_the_answer_says_when_the_specialist_is_on_leave(world: World) -> None:
    await world.fulfil_first_visit_of(await world.booked(local("2025-10-21", "10:00")))
    leave = {"kind": "unavailable", "start": local("2025-10-19", "00:00"),
             "end": local("2025-11-03", "00:00")}  # fmt: skip
    created = await world.client.post(
        f"{SCHEDULING}/schedules/{world.schedule['id']}/exceptions",
        json=leave,
        headers=world.coordinator.headers,
    )
    assert created.status_code == 201, created.text
    away = (await answer(world, world.patient))["practitioner_away_until"]
    assert datetime.fromisoformat(away) == datetime.fromisoformat(leave["end"])
    world.clock.now = datetime.fromisoformat(leave["end"])
    assert (await answer(world, world.patient))["practitioner_away_until"] is None


async def test_a_closed_episode_takes_no_more_remote_requests(world: World) -> None:
    first = await world.booked(local("2025-10-21", "10:00"))
    await world.fulfil_first_visit_of(first)
    closed = await world.client.post(
        f"{SCHEDULING}/episodes/{first['episode_id']}/close", headers=world.medic.headers
    )
    assert closed.status_code == 200, closed.text
    assert (await answer(world, world.patient))["reason"] == "no_visit"


async def test_the_answer_covers_only_episodes_the_caller_may_see_and_is_audited(
    world: World,
) -> None:
    await world.fulfil_first_visit_of(await world.booked(local("2025-10-21", "10:00")))
    for actor in (world.patient, world.medic, world.cardiologist):
        assert (await answer(world, actor))["eligible"], actor.username
    for actor in (world.other_medic, world.colleague, world.coordinator):
        assert (await answer(world, actor))["reason"] == "no_visit", actor.username
    assert_problem(await eligibility(world, world.other_patient), 404)
    assert world.stack.admin is not None
    assert_problem(await eligibility(world, world.stack.admin), 403)
    assert_problem(await eligibility(world, world.patient, specialty="?"), 422)

    records = KERNEL_TABLES.audit.records
    async with world.database.sessionmaker() as session:
        rows = (
            await session.execute(
                select(records.c.action, records.c.actor_id, records.c.outcome).where(
                    records.c.resource_type == "patient",
                    records.c.resource_id == str(world.patient.id),
                )
            )
        ).all()
        assert (await verify_chain(session, KERNEL_TABLES.audit)).intact
    asked = {(row.actor_id, row.outcome) for row in rows if row.action == "patient.eligibility"}
    assert (str(world.patient.id), "success") in asked
    assert (str(world.other_medic.id), "success") in asked
    assert (str(world.other_patient.id), "denied") in asked


async def test_the_client_asks_and_books_a_remote_follow_up_as_the_caller(world: World) -> None:
    first = await world.booked(local("2025-10-21", "10:00"))
    http = httpx.AsyncClient(transport=world.stack.transport, base_url="http://gateway")
    scheduling = SchedulingClient(http)
    token = world.cardiologist.access_token
    episode_id = uuid.UUID(first["episode_id"])
    pending = await scheduling.eligibility(world.patient.id, token, specialty="cardiology")
    assert pending.reason == "visit_not_fulfilled"
    booking: dict[str, Any] = {
        "practitioner_id": world.cardiologist.id,
        "episode_id": episode_id,
        "start": datetime.fromisoformat(local("2025-10-28", "10:00")),
    }
    with pytest.raises(Conflict, match="fulfilled in-person first visit"):
        await scheduling.book_remote_follow_up(token, **booking)
    await world.fulfil_first_visit_of(first)
    assert (await scheduling.eligibility(world.patient.id, token, specialty="cardiology")).eligible
    booked = await scheduling.book_remote_follow_up(token, **booking, idempotency_key="f-1")
    assert (booked.visit_type, booked.status) == ("remote", "booked")
    assert booked.episode_id == episode_id
    again = await scheduling.book_remote_follow_up(token, **booking, idempotency_key="f-1")
    assert again.id == booked.id
    with pytest.raises(Conflict, match="slot is taken"):
        await scheduling.book_remote_follow_up(token, **booking)
