"""The patient's personal visit link through the real gateway, scheduling and video: it leads
its patient (and only them) into the call, says when the call opens, that the visit ended or
was cancelled, follows a move, and is refused when altered; staff or the patient send the
invitation again."""

import base64
import hashlib
import json
import re
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from gateway.models import kernel_tables
from gateway.notify.enums import Template
from gateway.visits.links import VisitLinks
from tests.conftest import Actor, Stack
from tests.notify.producing import gateway_database, messages, quiet_stack, set_user
from tests.scheduling import conftest as scheduling_fixtures
from tests.scheduling import test_video_rooms as video_rooms
from tests.scheduling.conftest import SCHEDULING, World, assert_problem, local
from tests.scheduling.test_video_rooms import FOLLOW_UP, VIDEO, remote_follow_up

world, clock = scheduling_fixtures.world, scheduling_fixtures.clock
# Scheduling's API client for the video rooms, registered with the secret its settings hold.
scheduling_settings, scheduling_client = (
    video_rooms.scheduling_settings,
    video_rooms.scheduling_client,
)
START = datetime.fromisoformat(FOLLOW_UP)  # 2025-10-28 03:00Z, 13:00 in the patient's zone


@pytest.fixture
async def stack(
    clean_databases: dict[str, str], tmp_path: Path, scheduling_settings: dict[str, Any]
) -> AsyncIterator[Stack]:
    async with quiet_stack(clean_databases, tmp_path, scheduling=scheduling_settings) as running:
        yield running


def links(world: World) -> VisitLinks:
    found: VisitLinks = world.stack.apps["gateway"].state.visit_links
    return found


async def open_link(world: World, appointment_id: str, patient: Actor | None = None) -> Any:
    token = links(world).token(uuid.UUID(appointment_id), (patient or world.patient).id)
    return await world.client.get(f"/visit/{token}")


def join_identity(join_url: str) -> str:
    """The `sub` of the video join token in a join page's URL (its claims, unverified)."""
    claims = join_url.rsplit("/join/", 1)[1].split(".")[1]
    identity: str = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["sub"]
    return identity


async def test_the_link_leads_its_patient_into_the_call(world: World) -> None:
    visit = await remote_follow_up(world)
    world.clock.now = START - timedelta(minutes=10)
    opened = await open_link(world, visit["id"])
    assert opened.status_code == 303, opened.text
    assert opened.headers["cache-control"] == "no-store"
    join_url = opened.headers["location"]
    assert "/join/" in join_url
    assert join_identity(join_url) == f"patient:{world.patient.id}"
    token = join_url.rsplit("/join/", 1)[1]
    room = await world.client.get(
        f"{VIDEO}/rooms/{visit['room']['room_id']}", headers={"Authorization": f"Bearer {token}"}
    )
    assert room.status_code == 200, room.text
    assert room.json()["appointment_id"] == visit["id"]
    # The link is the patient's alone: signed for another patient it leads nowhere.
    foreign = await open_link(world, visit["id"], world.other_patient)
    assert foreign.status_code == 404
    assert "text/html" in foreign.headers["content-type"]

    records = kernel_tables.audit.records
    async with gateway_database(world.stack).sessionmaker() as session:
        rows = await session.execute(
            select(records.c.actor_id, records.c.resource_id, records.c.outcome)
            .where(records.c.action == "visit_link.open")
            .order_by(records.c.id)
        )
        opens = [tuple(row) for row in rows]
    assert opens == [
        (str(world.patient.id), visit["id"], "success"),
        (str(world.other_patient.id), visit["id"], "denied"),
    ]


async def test_an_altered_or_made_up_link_is_not_found(world: World) -> None:
    visit = await remote_follow_up(world)
    world.clock.now = START - timedelta(minutes=10)
    token = links(world).token(uuid.UUID(visit["id"]), world.patient.id)
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")
    other_key = VisitLinks(b"another gateway's key", "http://x").token(
        uuid.UUID(visit["id"]), world.patient.id
    )
    for bad in (altered, other_key, "x" * 64, token + "A", "not-a-token"):
        refused = await world.client.get(f"/visit/{bad}")
        assert refused.status_code == 404, bad
        assert "Ссылка недействительна" in refused.text
        assert refused.headers["cache-control"] == "no-store"
    english = await world.client.get(f"/visit/{altered}", headers={"Accept-Language": "en-GB"})
    assert "This link is not valid" in english.text


async def test_before_its_window_the_page_says_when_the_call_opens(world: World) -> None:
    visit = await remote_follow_up(world)
    early = await open_link(world, visit["id"])
    assert early.status_code == 200, early.text
    # Joining opens `join_link_before` ahead (25 minutes in these tests): 02:35Z, 12:35 in
    # Vladivostok, the patient's zone.
    assert "28.10.2025 12:35 (Asia/Vladivostok)" in early.text
    assert "28.10.2025 13:00 (Asia/Vladivostok)" in early.text
    # The page's one style is allowed by its hash, and nothing else is (no script at all).
    (style,) = re.findall(r"<style>(.*?)</style>", early.text, flags=re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    policy = early.headers["content-security-policy"]
    assert policy.startswith(f"default-src 'none'; style-src 'sha256-{digest}';")
    await set_user(world.stack, world.patient.id, language="en")
    english = await open_link(world, visit["id"])
    assert "You can join from 28 Oct 2025, 12:35 (Asia/Vladivostok)" in english.text


async def test_a_cancelled_or_ended_visit_says_so(world: World) -> None:
    visit = await remote_follow_up(world)
    world.clock.now = START + timedelta(hours=1)
    # Scheduling itself refuses a join link once the visit is over: 410, naming its end.
    ended = await world.client.post(
        f"{SCHEDULING}/appointments/{visit['id']}/join-link", headers=world.patient.headers
    )
    assert assert_problem(ended, 410)["ended_at"] == visit["end"].replace("+00:00", "Z")
    page = await open_link(world, visit["id"])
    assert page.status_code == 410
    assert "Видеоприём завершён" in page.text

    world.clock.now = START - timedelta(minutes=10)
    assert (await world.act(world.patient, visit["id"], "cancel")).status_code == 200
    page = await open_link(world, visit["id"])
    assert page.status_code == 410
    assert "Приём отменён" in page.text


async def test_the_link_follows_a_moved_visit(world: World) -> None:
    visit = await remote_follow_up(world)
    later = local("2025-10-28", "11:00")
    moved = await world.client.post(
        f"{SCHEDULING}/appointments/{visit['id']}/reschedule",
        json={"start": later},
        headers=world.cardiologist.headers,
    )
    assert moved.status_code == 201, moved.text
    world.clock.now = datetime.fromisoformat(later) - timedelta(minutes=5)
    opened = await open_link(world, visit["id"])  # the link sent before the move
    assert opened.status_code == 303, opened.text
    room_id = moved.json()["room"]["room_id"]
    token = opened.headers["location"].rsplit("/join/", 1)[1]
    room = await world.client.get(
        f"{VIDEO}/rooms/{room_id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert room.json()["appointment_id"] == moved.json()["id"]


async def resend(
    world: World, actor: Actor, appointment_id: str, key: str | None = None
) -> httpx.Response:
    return await world.client.post(
        f"/api/notify/visits/{appointment_id}/invitation",
        headers=actor.headers | ({"Idempotency-Key": key} if key else {}),
    )


async def test_staff_who_see_the_visit_or_its_patient_send_the_invitation_again(
    world: World,
) -> None:
    visit = await remote_follow_up(world)
    sent = await resend(world, world.medic, visit["id"], key="resend-1")
    assert sent.status_code == 202, sent.text
    assert sent.json() == {
        "appointment_id": visit["id"],
        "recipient_id": str(world.patient.id),
        "template": "visit.invitation",
    }
    assert (await resend(world, world.medic, visit["id"], key="resend-1")).status_code == 202
    assert (await resend(world, world.patient, visit["id"])).status_code == 202
    for outsider in (world.other_medic, world.other_patient):
        assert_problem(await resend(world, outsider, visit["id"]), 404)
    assert_problem(await resend(world, world.medic, str(uuid.uuid4())), 404)

    found = await messages(world.stack, world.patient.id)
    assert [m.template for m in found] == [Template.VISIT_INVITATION] * 2  # the retry added none
    assert len({m.key for m in found}) == 2
    token = links(world).token(uuid.UUID(visit["id"]), world.patient.id)
    assert found[0].params["join_link"].endswith(f"/visit/{token}")  # the same personal link
    assert found[0].params == found[1].params

    assert (await world.act(world.patient, visit["id"], "cancel")).status_code == 200
    refused = assert_problem(await resend(world, world.medic, visit["id"]), 409)
    assert refused["current_status"] == "cancelled"

    records = kernel_tables.audit.records
    async with gateway_database(world.stack).sessionmaker() as session:
        rows = await session.execute(
            select(records.c.actor_id, records.c.outcome)
            .where(records.c.action == "visit.invitation_resend")
            .order_by(records.c.id)
        )
        resends = [tuple(row) for row in rows]
    assert resends == [
        (str(world.medic.id), "success"),
        (str(world.patient.id), "success"),
        (str(world.other_medic.id), "denied"),
        (str(world.other_patient.id), "denied"),
        (str(world.medic.id), "denied"),
        (str(world.medic.id), "failed"),
    ]
