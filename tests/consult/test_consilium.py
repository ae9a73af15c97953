"""Consilia through the gateway: the assigned specialist convenes one and chairs it, specialists
invited by name or by specialty answer or decline with a reason, their opinions are signed, the
chair's signed protocol cites them and concludes the case, the video room is the chair's; and
everyone else is refused."""

import base64
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select, update

from services.common.db import Database, utcnow
from services.consult.cases.consilium.models import ConsiliumOpinion
from services.consult.cases.enums import SignatureForm
from services.consult.cases.signing import SignedDocument
from services.consult.db import KERNEL_TABLES
from tests.conftest import Actor
from tests.consult.conftest import CONSULT, World
from tests.files import samples
from tests.scheduling.conftest import assert_problem

DECISION = {
    "findings": "Three-vessel disease, SYNTAX 34, type 2 diabetes.",
    "diagnosis_text": "Multivessel coronary artery disease",
    "diagnosis_codes": ["I25.1", "E11.9"],
    "recommendations": "CABG at the cardiac surgery centre within two weeks.",
    "hospitalisation_needed": True,
}


def opinion(assessment: str) -> dict[str, Any]:
    return {
        "content": {
            "assessment": assessment,
            "diagnosis_codes": ["i25.1"],
            "recommendations": "Surgery rather than stenting.",
        }
    }


@dataclass
class Consilium:
    """An in-progress case of the centre's cardiologist, who chairs; a neurologist and an
    endocrinologist of the centre, and two cardiac surgeons of another centre."""

    world: World
    case_id: str
    ecg_id: str
    surgical_centre: dict[str, Any]
    surgeon: Actor
    other_surgeon: Actor
    endocrinologist: Actor

    @property
    def client(self) -> httpx.AsyncClient:
        return self.world.stack.client

    @property
    def chair(self) -> Actor:
        return self.world.cardiologist

    @property
    def path(self) -> str:
        return f"{CONSULT}/cases/{self.case_id}/consilium"

    async def convene(self, actor: Actor, invitations: list[dict[str, Any]]) -> httpx.Response:
        body = {"agenda": "CABG or PCI for three-vessel disease?", "invitations": invitations}
        return await self.client.post(self.path, json=body, headers=actor.headers)

    async def read(self, actor: Actor) -> httpx.Response:
        return await self.client.get(self.path, headers=actor.headers)

    async def answer(
        self, actor: Actor, invitation_id: str, what: str, body: Any = None
    ) -> httpx.Response:
        path = f"{self.path}/invitations/{invitation_id}/{what}"
        return await self.client.post(path, json=body, headers=actor.headers)

    async def protocol(self, actor: Actor, **body: Any) -> httpx.Response:
        return await self.client.post(
            f"{self.path}/protocol", json={"decision": DECISION} | body, headers=actor.headers
        )

    async def audit(self) -> list[tuple[str, str | None, str]]:
        database: Database = self.world.stack.apps["consult"].state.database
        records = KERNEL_TABLES.audit.records
        async with database.sessionmaker() as session:
            rows = (await session.execute(select(records).order_by(records.c.id))).mappings()
            return [(row["action"], row["actor_id"], row["outcome"]) for row in rows]


@pytest.fixture
async def consilium(world: World) -> Consilium:
    stack = world.stack
    surgical_centre = await stack.organization(kind="regional_centre", region="42")
    ecg = await world.upload(samples.pdf_bytes(), "ECG.pdf", "ecg")
    case = await world.create(submit=True, attachment_ids=[ecg["id"]])
    for action in ("accept", "start"):
        response = await world.act(world.cardiologist, case["id"], action)
        assert response.status_code == 200, response.text
    return Consilium(
        world=world,
        case_id=case["id"],
        ecg_id=ecg["id"],
        surgical_centre=surgical_centre,
        surgeon=await stack.actor("specialist", surgical_centre, "cardiac_surgery"),
        other_surgeon=await stack.actor("specialist", surgical_centre, "cardiac_surgery"),
        endocrinologist=await stack.actor("specialist", world.centre, "endocrinology"),
    )


def by_user(actor: Actor) -> dict[str, str]:
    return {"user_id": str(actor.id)}


def surgery(consilium: Consilium) -> dict[str, str]:
    return {"specialty": "Cardiac surgery", "organization_id": consilium.surgical_centre["id"]}


async def convened(consilium: Consilium) -> dict[str, str]:
    """Invitations of the neurologist, the endocrinologist and the surgical centre's surgeons,
    by who or what they were invited as."""
    world = consilium.world
    wanted = [by_user(world.neurologist), by_user(consilium.endocrinologist), surgery(consilium)]
    response = await consilium.convene(consilium.chair, wanted)
    assert response.status_code == 201, response.text
    names = {
        str(world.neurologist.id): "neurologist",
        str(consilium.endocrinologist.id): "endocrinologist",
        None: "surgery",
    }
    return {names[item["invitee_id"]]: item["id"] for item in response.json()["invitations"]}


def verifies_offline(signed: dict[str, Any], case_id: str, content: Any, keys: Any) -> bool:
    """Checks a signature as a third party would: the canonical document rebuilt from what the
    API returned, against the published key."""
    document = SignedDocument(
        case_id=uuid.UUID(case_id),
        version=1,
        author_id=uuid.UUID(signed["author_id"]),
        issued_at=datetime.fromisoformat(signed["issued_at"]),
        content=content,
    )
    jwk = next(key for key in keys if key["kid"] == signed["key_id"])
    public_key = jwt.PyJWK(jwk).key
    assert isinstance(public_key, Ed25519PublicKey)
    raw = base64.urlsafe_b64decode(signed["signature"] + "=" * (-len(signed["signature"]) % 4))
    public_key.verify(raw, document.canonical())  # raises when it does not verify
    digest: str = signed["content_sha256"]
    return document.sha256(SignatureForm.CANONICAL_JSON) == digest


async def test_consilium_by_name_and_by_specialty_ends_in_a_protocol_citing_signed_opinions(
    consilium: Consilium,
) -> None:
    world, chair = consilium.world, consilium.chair
    invitations = await convened(consilium)
    case = (
        await world.stack.client.get(f"{CONSULT}/cases/{consilium.case_id}", headers=chair.headers)
    ).json()
    assert (case["mode"], case["status"]) == ("consilium", "in_progress")
    # The invitation to a specialty is for each of its specialists until one accepts it.
    for surgeon in (consilium.surgeon, consilium.other_surgeon):
        listed = await world.stack.client.get(
            f"{CONSULT}/consilium-invitations", headers=surgeon.headers
        )
        assert [item["id"] for item in listed.json()] == [invitations["surgery"]]
    accepted = await consilium.answer(consilium.surgeon, invitations["surgery"], "accept")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["invitee_id"] == str(consilium.surgeon.id)
    assert accepted.json()["specialty"] == "cardiac_surgery"
    late = await consilium.answer(consilium.other_surgeon, invitations["surgery"], "accept")
    assert_problem(late, 404)  # the seat is taken: the case is no longer theirs to see
    # An invited specialist reads the case although it is addressed to cardiology, and its
    # attachments, with the grant consult gives whoever it lets read the case.
    neurologist = world.neurologist
    read = await world.stack.client.get(
        f"{CONSULT}/cases/{consilium.case_id}", headers=neurologist.headers
    )
    assert read.status_code == 200, read.text
    ecg = f"/api/files/files/{consilium.ecg_id}/content"
    grant = {"Telemed-Grant": await world.grant(neurologist, consilium.case_id)}
    downloaded = await world.stack.client.get(ecg, headers=neurologist.headers | grant)
    assert downloaded.status_code == 200
    unseated = await world.stack.client.post(
        f"{CONSULT}/cases/{consilium.case_id}/attachments/grant",
        headers=consilium.other_surgeon.headers,
    )
    assert unseated.status_code == 404
    borrowed = await world.stack.client.get(ecg, headers=consilium.other_surgeon.headers | grant)
    assert borrowed.status_code == 403
    given = {
        "surgery": await consilium.answer(
            consilium.surgeon, invitations["surgery"], "opinion", opinion("Diabetes: CABG.")
        ),
        "neurologist": await consilium.answer(
            neurologist, invitations["neurologist"], "opinion", opinion("No stroke risk.")
        ),
    }
    for response in given.values():
        assert response.status_code == 201, response.text
        assert response.json()["signature_valid"] is True
    declined = await consilium.answer(
        consilium.endocrinologist,
        invitations["endocrinologist"],
        "decline",
        {"reason": "On leave."},
    )
    assert declined.status_code == 200, declined.text

    issued = await consilium.protocol(chair)
    assert issued.status_code == 201, issued.text
    protocol = issued.json()
    assert (protocol["signature_valid"], protocol["citations_valid"]) == (True, True)
    opinions = {response.json()["id"]: response.json() for response in given.values()}
    assert {cited["opinion_id"] for cited in protocol["opinions"]} == set(opinions)
    for cited in protocol["opinions"]:
        assert cited["content_sha256"] == opinions[cited["opinion_id"]]["content_sha256"]
        assert cited["signature"] == opinions[cited["opinion_id"]]["signature"]

    keys = (await world.stack.client.get(f"{CONSULT}/conclusion-keys")).json()["keys"]
    read_back = (await consilium.read(world.medic)).json()
    consilium_id = read_back["id"]
    for item in read_back["opinions"]:
        content = {
            "document": "consilium_opinion",
            "consilium_id": consilium_id,
            "invitation_id": item["invitation_id"],
            "specialty": item["specialty"],
            "opinion": item["content"],
        }
        assert verifies_offline(item, consilium.case_id, content, keys)
    signed_protocol = read_back["protocol"]
    content = {
        "document": "consilium_protocol",
        "consilium_id": consilium_id,
        "decision": signed_protocol["decision"],
        "opinions": signed_protocol["opinions"],
    }
    assert verifies_offline(signed_protocol, consilium.case_id, content, keys)

    case = (
        await world.stack.client.get(
            f"{CONSULT}/cases/{consilium.case_id}", headers=world.medic.headers
        )
    ).json()
    assert case["status"] == "concluded"
    assert read_back["status"] == "concluded"
    # A consilium's case is concluded by the protocol, never by a conclusion of one doctor.
    plain = await world.stack.client.post(
        f"{CONSULT}/cases/{consilium.case_id}/conclusions",
        json={"content": DECISION},
        headers=chair.headers,
    )
    assert_problem(plain, 409)


async def test_a_declined_invitation_keeps_its_reason_and_the_chair_closes_the_unanswered(
    consilium: Consilium,
) -> None:
    world, chair = consilium.world, consilium.chair
    invitations = await convened(consilium)
    declining = consilium.endocrinologist
    declined = await consilium.answer(declining, invitations["endocrinologist"], "decline", {})
    assert_problem(declined, 422)  # a reason is required
    declined = await consilium.answer(
        declining,
        invitations["endocrinologist"],
        "decline",
        {"reason": "Not my field: ask a vascular surgeon."},
    )
    assert declined.status_code == 200, declined.text
    assert declined.json()["status"] == "declined"
    assert declined.json()["reason"] == "Not my field: ask a vascular surgeon."
    # Declined, the specialist no longer sees the case, nor answers again.
    gone = await world.stack.client.get(
        f"{CONSULT}/cases/{consilium.case_id}", headers=declining.headers
    )
    assert_problem(gone, 404)

    waiting = await consilium.protocol(chair)
    assert_problem(waiting, 409)  # nobody has answered with an opinion yet
    given = await consilium.answer(
        world.neurologist, invitations["neurologist"], "opinion", opinion("No stroke risk.")
    )
    assert given.status_code == 201, given.text
    unanswered = assert_problem(await consilium.protocol(chair), 409)
    assert unanswered["unanswered"] == [invitations["surgery"]]
    issued = await consilium.protocol(chair, close_unanswered=True)
    assert issued.status_code == 201, issued.text
    assert [cited["opinion_id"] for cited in issued.json()["opinions"]] == [given.json()["id"]]

    read_back = (await consilium.read(chair)).json()
    statuses = {item["id"]: (item["status"], item["reason"]) for item in read_back["invitations"]}
    assert statuses[invitations["endocrinologist"]] == (
        "declined",
        "Not my field: ask a vascular surgeon.",
    )
    assert statuses[invitations["surgery"]][0] == "closed"
    assert statuses[invitations["neurologist"]] == ("opinion_given", None)
    late = await consilium.answer(
        consilium.surgeon, invitations["surgery"], "opinion", opinion("Too late.")
    )
    assert_problem(late, 404)  # closed: the consilium is no longer theirs to see


async def test_who_may_not_take_part(consilium: Consilium) -> None:
    world, chair = consilium.world, consilium.chair
    colleague = world.colleague  # a cardiologist of the centre: sees the case, is not invited
    assert_problem(await consilium.convene(world.medic, [by_user(world.neurologist)]), 403)
    assert_problem(await consilium.convene(colleague, [by_user(world.neurologist)]), 403)
    invitations = await convened(consilium)
    assert_problem(await consilium.convene(chair, [by_user(colleague)]), 409)  # convened once

    # A specialist not invited does not write an opinion: seeing the case or not.
    on_anothers = await consilium.answer(
        colleague, invitations["neurologist"], "opinion", opinion("Mine.")
    )
    assert_problem(on_anothers, 403)
    outsider = await world.stack.actor("specialist", consilium.surgical_centre, "neurology")
    unseen = await consilium.answer(
        outsider, invitations["neurologist"], "opinion", opinion("Mine.")
    )
    assert_problem(unseen, 404)
    # The chair gives their view in the protocol, not by taking a seat.
    assert_problem(await consilium.answer(chair, invitations["surgery"], "accept"), 403)

    given = await consilium.answer(
        world.neurologist, invitations["neurologist"], "opinion", opinion("No stroke risk.")
    )
    assert given.status_code == 201, given.text
    again = await consilium.answer(
        world.neurologist, invitations["neurologist"], "opinion", opinion("Twice.")
    )
    assert_problem(again, 409)
    # Only the chair issues the protocol, invites, or asks for the room.
    for other in (colleague, world.neurologist):
        assert_problem(await consilium.protocol(other, close_unanswered=True), 403)
        more = await world.stack.client.post(
            f"{consilium.path}/invitations",
            json={"invitations": [by_user(outsider)]},
            headers=other.headers,
        )
        assert_problem(more, 403)
    # The patient, the medic of another hospital and a coordinator of another region do not
    # read the consilium; the requesting medic and the region's coordinator do.
    for stranger in (world.patient, world.other_medic, world.far_coordinator):
        assert_problem(await consilium.read(stranger), 404)
    for reader in (world.medic, world.coordinator, world.neurologist):
        assert (await consilium.read(reader)).status_code == 200
    denied = [entry for entry in await consilium.audit() if entry[2] == "denied"]
    assert ("consilium.opinion", str(colleague.id), "denied") in denied
    assert ("consilium.protocol", str(world.neurologist.id), "denied") in denied
    assert ("consilium.read", str(world.patient.id), "denied") in denied


@pytest.mark.parametrize(
    ("invitation", "status"),
    [
        ({"user_id": str(uuid.uuid4()), "specialty": "neurology"}, 422),
        ({"user_id": str(uuid.uuid4()), "organization_id": str(uuid.uuid4())}, 422),
        ({}, 422),
        ({"specialty": "neurology", "organization_id": str(uuid.uuid4())}, 422),
    ],
)
async def test_invitations_are_validated(
    consilium: Consilium, invitation: dict[str, Any], status: int
) -> None:
    assert_problem(await consilium.convene(consilium.chair, [invitation]), status)


async def test_invitations_to_the_chair_or_twice_are_refused(consilium: Consilium) -> None:
    world, chair = consilium.world, consilium.chair
    assert_problem(await consilium.convene(chair, [by_user(chair)]), 422)
    twice = [by_user(world.neurologist), by_user(world.neurologist)]
    assert_problem(await consilium.convene(chair, twice), 409)
    submitted = await world.create(submit=True)
    not_taken = await world.stack.client.post(
        f"{CONSULT}/cases/{submitted['id']}/consilium",
        json={"agenda": "Convene early?", "invitations": [by_user(world.neurologist)]},
        headers=chair.headers,
    )
    assert_problem(not_taken, 409)  # a case is taken before its consilium is convened


async def test_the_chair_asks_for_the_consilium_room(consilium: Consilium) -> None:
    world, chair = consilium.world, consilium.chair
    await convened(consilium)
    starts_at = (utcnow() + timedelta(days=1)).replace(microsecond=0)
    body = {"starts_at": starts_at.isoformat()}
    path = f"{consilium.path}/room"
    assert_problem(
        await world.stack.client.post(path, json=body, headers=world.colleague.headers), 403
    )
    past = {"starts_at": (utcnow() - timedelta(hours=1)).isoformat()}
    assert_problem(await world.stack.client.post(path, json=past, headers=chair.headers), 422)
    response = await world.stack.client.post(path, json=body, headers=chair.headers)
    assert response.status_code == 200, response.text
    room_id = response.json()["room_id"]
    assert room_id is not None
    again = await world.stack.client.post(path, json=body, headers=chair.headers)
    assert again.json()["room_id"] == room_id

    room = await world.stack.client.get(f"/api/video/rooms/{room_id}", headers=chair.headers)
    assert room.status_code == 200, room.text
    assert room.json()["kind"] == "consilium"
    assert room.json()["case_id"] == consilium.case_id
    assert room.json()["host_id"] == str(chair.id)
    assert room.json()["organization_id"] == world.centre["id"]
    assert datetime.fromisoformat(room.json()["starts_at"]) == starts_at


async def test_the_members_join_the_consilium_room(consilium: Consilium) -> None:
    """Invited by name or accepted: in the room; a later answer counts once the chair asks
    for the room again."""
    world, chair = consilium.world, consilium.chair
    client, neurologist, endocrinologist = (
        world.stack.client,
        world.neurologist,
        consilium.endocrinologist,
    )
    invitations = await convened(consilium)
    accepted = await consilium.answer(neurologist, invitations["neurologist"], "accept")
    assert accepted.status_code == 200, accepted.text
    body = {"starts_at": (utcnow() + timedelta(minutes=5)).isoformat()}

    async def ask_for_the_room() -> dict[str, Any]:
        response = await client.post(f"{consilium.path}/room", json=body, headers=chair.headers)
        assert response.status_code == 200, response.text
        room = await client.get(
            f"/api/video/rooms/{response.json()['room_id']}", headers=chair.headers
        )
        assert room.status_code == 200, room.text
        found: dict[str, Any] = room.json()
        return found

    async def own_token(room: dict[str, Any], actor: Actor) -> int:
        path = f"/api/video/rooms/{room['id']}/tokens"
        return (await client.post(path, json={}, headers=actor.headers)).status_code

    room = await ask_for_the_room()
    assert room["invitee_ids"] == sorted([str(neurologist.id), str(endocrinologist.id)])
    assert await own_token(room, neurologist) == 201
    assert await own_token(room, consilium.surgeon) == 404  # the specialty's seat is empty

    taken = await consilium.answer(consilium.surgeon, invitations["surgery"], "accept")
    assert taken.status_code == 200, taken.text
    declined = await consilium.answer(
        endocrinologist, invitations["endocrinologist"], "decline", {"reason": "On leave."}
    )
    assert declined.status_code == 200, declined.text
    assert await own_token(room, consilium.surgeon) == 404  # until the chair asks again

    again = await ask_for_the_room()
    assert again["id"] == room["id"]
    assert again["invitee_ids"] == sorted([str(neurologist.id), str(consilium.surgeon.id)])
    assert await own_token(room, consilium.surgeon) == 201
    assert await own_token(room, endocrinologist) == 404
    assert await own_token(room, consilium.other_surgeon) == 404
    assert await own_token(room, world.colleague) == 404


async def test_a_consilium_the_video_service_cannot_seat_gets_no_room(
    consilium: Consilium,
) -> None:
    """More members than a room takes, or a member of another region (whom the video service
    does not let the chair invite): a 409 saying so, and no room."""
    world, chair, stack = consilium.world, consilium.chair, consilium.world.stack
    path = f"{consilium.path}/room"
    body = {"starts_at": (utcnow() + timedelta(minutes=5)).isoformat()}
    crowd = [await stack.actor("specialist", world.centre, "neurology") for _ in range(8)]
    assert (await consilium.convene(chair, [by_user(actor) for actor in crowd])).status_code == 201
    too_many = await stack.client.post(path, json=body, headers=chair.headers)
    assert_problem(too_many, 409)
    assert too_many.json()["members"] == 8

    case = await world.in_progress()
    far_centre = await stack.organization(
        kind="regional_centre", region="27", timezone="Asia/Vladivostok"
    )
    far = await stack.actor("specialist", far_centre, "cardiac_surgery")
    far_path = f"{CONSULT}/cases/{case['id']}/consilium"
    wanted = {"agenda": "Operate?", "invitations": [by_user(far)]}
    assert (
        await stack.client.post(far_path, json=wanted, headers=chair.headers)
    ).status_code == 201
    refused = await stack.client.post(f"{far_path}/room", json=body, headers=chair.headers)
    assert_problem(refused, 409)
    assert f"No specialist or district medic {far.id} of your region." in refused.json()["detail"]
    for case_id in (consilium.case_id, case["id"]):
        read = await stack.client.get(f"{CONSULT}/cases/{case_id}/consilium", headers=chair.headers)
        assert read.json()["room_id"] is None
    rooms = await stack.client.get("/api/video/rooms", headers=chair.headers)
    assert rooms.json() == []


async def test_a_changed_opinion_no_longer_verifies_nor_does_its_citation(
    consilium: Consilium,
) -> None:
    world = consilium.world
    invitations = await convened(consilium)
    await consilium.answer(
        world.neurologist, invitations["neurologist"], "opinion", opinion("No stroke risk.")
    )
    issued = await consilium.protocol(consilium.chair, close_unanswered=True)
    assert issued.status_code == 201, issued.text
    database: Database = world.stack.apps["consult"].state.database
    async with database.sessionmaker() as session:
        stored = (await session.scalars(select(ConsiliumOpinion))).one()
        changed = stored.content | {"specialty": "cardiology"}
        await session.execute(
            update(ConsiliumOpinion).where(ConsiliumOpinion.id == stored.id).values(content=changed)
        )
        await session.commit()
    read_back = (await consilium.read(consilium.chair)).json()
    assert read_back["opinions"][0]["signature_valid"] is False
    assert read_back["protocol"]["signature_valid"] is True
    assert read_back["protocol"]["citations_valid"] is False
