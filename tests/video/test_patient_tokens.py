"""Who may set up a room and issue its patient's join link: the room's patient takes their own,
and a room scheduler (the scheduling service's API client) acts for another organisation's
host."""

import uuid
from typing import Any

from sqlalchemy import select

from services.common.db import Database
from services.video.models import KERNEL_TABLES
from tests.conftest import Actor
from tests.video.conftest import VideoWorld, later
from tests.video.peers import VIDEO


async def patient_link(
    video: VideoWorld, room: dict[str, Any], actor: Actor, patient_id: uuid.UUID | None = None
) -> Any:
    return await video.stack.client.post(
        f"{VIDEO}/rooms/{room['id']}/patient-link",
        json={"patient_id": str(patient_id or actor.id), "display_name": "Ivan Petrov"},
        headers=actor.headers,
    )


async def scheduler_token(video: VideoWorld, scopes: list[str]) -> dict[str, str]:
    """Registers an API client, as the directory's admin does, and signs it in."""
    stack = video.stack
    assert stack.admin is not None
    organization = await stack.organization(kind="regional_centre")
    body = {"name": "Scheduling service", "organization_id": organization["id"], "scopes": scopes,
            "is_service": True}  # fmt: skip
    created = await stack.client.post(
        "/api/directory/api-clients", json=body, headers=stack.admin.headers
    )
    assert created.status_code == 201, created.text
    grant = {"grant_type": "client_credentials", "client_id": created.json()["client_id"],
             "client_secret": created.json()["client_secret"]}  # fmt: skip
    token = await stack.client.post("/api/auth/token", data=grant)
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


async def test_the_rooms_patient_takes_their_own_join_token(video: VideoWorld) -> None:
    hosts = {"id": str(video.host.organization_id)}  # staff name their own organisation's
    patient = await video.stack.actor("patient", hosts)
    other = await video.stack.actor("patient", hosts)
    room = await video.room(patient_id=str(patient.id), starts_at=later(10))
    assert room["patient_id"] == str(patient.id)

    issued = await patient_link(video, room, patient)
    assert issued.status_code == 201, issued.text
    link = issued.json()
    assert link["identity"] == f"patient:{patient.id}"
    assert link["grants"] == ["publish", "subscribe"]
    assert link["join_url"].endswith(f"/join/{link['token']}")
    seen = await video.stack.client.get(
        f"{VIDEO}/rooms/{room['id']}", headers={"Authorization": f"Bearer {link['token']}"}
    )
    assert seen.status_code == 200, seen.text
    assert seen.json()["id"] == room["id"]

    assert (await patient_link(video, room, other)).status_code == 404  # not even there
    assert (await patient_link(video, room, patient, other.id)).status_code == 403
    unbooked = await video.room()
    assert (await patient_link(video, unbooked, patient)).status_code == 404
    closed = await video.stack.client.post(
        f"{VIDEO}/rooms/{room['id']}/close", headers=video.host.headers
    )
    assert closed.status_code == 200
    refused = await patient_link(video, room, patient)
    assert refused.status_code == 410
    assert refused.json()["reason"] == "closed"

    database: Database = video.stack.apps["video"].state.database
    records = KERNEL_TABLES.audit.records
    async with database.engine.connect() as connection:
        rows = (
            await connection.execute(
                select(records.c.action, records.c.outcome, records.c.actor_id).where(
                    records.c.resource_id == room["id"], records.c.action == "token.issue"
                )
            )
        ).all()
    assert {(row.outcome, row.actor_id) for row in rows} == {
        ("success", str(patient.id)),
        ("denied", str(other.id)),
        ("denied", str(patient.id)),
    }


async def test_only_those_who_may_issue_the_link_name_a_rooms_patient(
    video: VideoWorld,
) -> None:
    organization = await video.stack.organization()
    medic = await video.stack.actor("district_medic", organization)
    body = {"kind": "follow_up", "title": "Follow-up", "starts_at": later(30),
            "host_id": str(video.host.id), "patient_id": str(uuid.uuid4())}  # fmt: skip
    named = await video.stack.client.post(f"{VIDEO}/rooms", json=body, headers=medic.headers)
    assert named.status_code == 403
    elsewhere = body | {"patient_id": None, "organization_id": str(uuid.uuid4())}
    moved = await video.stack.client.post(f"{VIDEO}/rooms", json=elsewhere, headers=medic.headers)
    assert moved.status_code == 403


async def test_a_room_scheduler_sets_up_rooms_for_another_organisations_host(
    video: VideoWorld,
) -> None:
    scheduler = await scheduler_token(video, ["video:rooms"])
    patient_id, appointment_id = uuid.uuid4(), uuid.uuid4()
    body = {"kind": "follow_up", "title": "Remote follow-up", "starts_at": later(60),
            "host_id": str(video.host.id), "organization_id": str(video.host.organization_id),
            "appointment_id": str(appointment_id), "patient_id": str(patient_id)}  # fmt: skip
    created = await video.stack.client.post(f"{VIDEO}/rooms", json=body, headers=scheduler)
    assert created.status_code == 201, created.text
    room = created.json()
    assert room["organization_id"] == str(video.host.organization_id)
    assert room["patient_id"] == str(patient_id)
    again = await video.stack.client.post(f"{VIDEO}/rooms", json=body, headers=scheduler)
    assert again.status_code == 200  # an answer lost on the way is asked for again
    assert again.json()["id"] == room["id"]
    for seer in (video.host, video.coordinator):  # the host's organisation owns the room
        seen = await video.stack.client.get(f"{VIDEO}/rooms/{room['id']}", headers=seer.headers)
        assert seen.status_code == 200, seen.text

    anonymous = body | {"appointment_id": None}
    unnamed = await video.stack.client.post(f"{VIDEO}/rooms", json=anonymous, headers=scheduler)
    assert unnamed.status_code == 422
    hosts_own = await video.room()
    refused = await video.stack.client.post(
        f"{VIDEO}/rooms/{hosts_own['id']}/close", headers=scheduler
    )
    assert refused.status_code == 404  # not an appointment's room: not even there
    unscoped = await scheduler_token(video, ["consult:read"])
    other = body | {"appointment_id": str(uuid.uuid4())}
    assert (
        await video.stack.client.post(f"{VIDEO}/rooms", json=other, headers=unscoped)
    ).status_code == 403
    closed = await video.stack.client.post(f"{VIDEO}/rooms/{room['id']}/close", headers=scheduler)
    assert closed.json()["status"] == "closed"
