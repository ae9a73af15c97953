"""Who a room names and who learns that it exists: staff name a host of their region and a
patient of their organisation (else a 422 naming the field, nothing stored); the token is
checked before a room is looked up, and a room the caller may not see answers exactly as a
room that does not exist."""

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
from sqlalchemy import event, func, select

from services.common.db import Database
from services.video.models import KERNEL_TABLES, Room
from tests.video.conftest import VideoWorld, later
from tests.video.peers import VIDEO


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


def _database(video: VideoWorld) -> Database:
    database: Database = video.stack.apps["video"].state.database
    return database


async def _rooms(video: VideoWorld) -> int:
    async with _database(video).sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(Room)) or 0


async def _denied_creations(video: VideoWorld) -> int:
    records = KERNEL_TABLES.audit.records
    query = select(func.count()).where(
        records.c.action == "room.create", records.c.outcome == "denied"
    )
    async with _database(video).sessionmaker() as session:
        return await session.scalar(query) or 0


@contextlib.contextmanager
def statements(video: VideoWorld) -> Iterator[list[str]]:
    """The SQL the video service runs meanwhile."""
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    engine = _database(video).engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def test_staff_name_a_host_of_their_region(video: VideoWorld) -> None:
    stack, coordinator = video.stack, video.coordinator
    distant = await stack.organization(region="27", timezone="Asia/Vladivostok")
    neighbour = await stack.organization(kind="regional_centre")  # region 42 as well
    own = {"id": str(coordinator.organization_id)}
    strangers = {
        "a random id": uuid.uuid4(),
        "a coordinator": (await stack.actor("coordinator", own)).id,
        "a patient": (await stack.actor("patient", own)).id,
        "another region's specialist": (await stack.actor("specialist", distant, "neurology")).id,
    }
    body = {"kind": "follow_up", "title": "Follow-up", "starts_at": later(30)}
    for who, host_id in strangers.items():
        refused = await stack.client.post(
            f"{VIDEO}/rooms", json=body | {"host_id": str(host_id)}, headers=coordinator.headers
        )
        problem = _problem(refused, 422)
        assert problem["detail"] == f"No specialist or district medic {host_id} of your region."
        assert problem["errors"][0]["loc"] == ["body", "host_id"], who
    assert await _rooms(video) == 0
    assert await _denied_creations(video) == len(strangers)

    for host in (
        video.host,
        await stack.actor("specialist", neighbour, "neurology"),
        await stack.actor("district_medic", neighbour),
    ):
        created = await stack.client.post(
            f"{VIDEO}/rooms", json=body | {"host_id": str(host.id)}, headers=coordinator.headers
        )
        assert created.status_code == 201, created.text
        assert created.json()["host_id"] == str(host.id)
        assert created.json()["organization_id"] == str(coordinator.organization_id)


async def test_staff_name_a_patient_of_their_organisation(video: VideoWorld) -> None:
    stack, host = video.stack, video.host
    elsewhere = await stack.organization()
    strangers = {
        "a random id": uuid.uuid4(),
        "a coordinator": video.coordinator.id,
        "another organisation's patient": (await stack.actor("patient", elsewhere)).id,
    }
    body = {"kind": "follow_up", "title": "Follow-up", "starts_at": later(30)}
    for who, patient_id in strangers.items():
        refused = await stack.client.post(
            f"{VIDEO}/rooms", json=body | {"patient_id": str(patient_id)}, headers=host.headers
        )
        assert _problem(refused, 422)["errors"][0]["loc"] == ["body", "patient_id"], who
    assert await _rooms(video) == 0
    assert await _denied_creations(video) == len(strangers)
    own = await stack.actor("patient", {"id": str(host.organization_id)})
    created = await stack.client.post(
        f"{VIDEO}/rooms", json=body | {"patient_id": str(own.id)}, headers=host.headers
    )
    assert created.status_code == 201, created.text


async def test_a_room_answers_strangers_as_if_it_did_not_exist(video: VideoWorld) -> None:
    stack = video.stack
    room = await video.room(starts_at=later(10))
    elsewhere = await stack.organization()
    outsider = await stack.actor("specialist", elsewhere, "cardiology")
    patient = await stack.actor("patient", elsewhere)
    existing, missing = room["id"], str(uuid.uuid4())

    def shape(response: httpx.Response) -> tuple[int, str, dict[str, Any]]:
        body = {k: v for k, v in response.json().items() if k not in {"instance", "request_id"}}
        return response.status_code, response.headers["content-type"], body

    anonymous: list[dict[str, str]] = [
        {},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": f"Bearer {video.host.access_token[:-4]}AAAA"},  # a forged signature
    ]
    with statements(video) as seen:
        for headers in anonymous:
            answers = [
                shape(await stack.client.get(f"{VIDEO}/rooms/{room_id}", headers=headers))
                for room_id in (existing, missing)
            ]
            assert answers[0] == answers[1]
            assert answers[0][0] == 401
    assert seen == []  # an unauthenticated caller costs no query, for any room id

    for stranger in (outsider, patient):
        answers = [
            shape(await stack.client.get(f"{VIDEO}/rooms/{room_id}", headers=stranger.headers))
            for room_id in (existing, missing)
        ]
        assert answers[0] == answers[1]
        assert answers[0][:2] == (404, "application/problem+json")

    # The same for every route that acts on a room with an access token.
    for path, body in (
        ("/close", None),
        ("/tokens", {}),
        ("/patient-link", {"patient_id": str(patient.id), "display_name": "Ivan Petrov"}),
        ("/recording", None),
        ("/recording/store", None),
    ):
        for stranger in (outsider, patient):
            answers = [
                shape(
                    await stack.client.post(
                        f"{VIDEO}/rooms/{room_id}{path}", json=body, headers=stranger.headers
                    )
                )
                for room_id in (existing, missing)
            ]
            assert answers[0] == answers[1], path
            assert answers[0][0] == 404, path
    stopped = await stack.client.delete(
        f"{VIDEO}/rooms/{existing}/recording", headers=outsider.headers
    )
    assert _problem(stopped, 404)["detail"] == "No such room."

    seen_by_host = await stack.client.get(f"{VIDEO}/rooms/{existing}", headers=video.host.headers)
    assert seen_by_host.status_code == 200, seen_by_host.text
    records = KERNEL_TABLES.audit.records
    async with _database(video).sessionmaker() as session:
        denied = (
            await session.scalars(
                select(records.c.resource_id).where(
                    records.c.action == "room.read",
                    records.c.outcome == "denied",
                    records.c.actor_id == str(outsider.id),
                )
            )
        ).all()
    assert sorted(denied) == sorted([existing, missing])
