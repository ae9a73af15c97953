"""Episodes and visits are linked to a consultation case only on the consult service's word:
through consult's `POST /cases/{id}/episodes`, or with the grant it signs, checked by
scheduling with consult's public key alone."""

import uuid
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from services.common.audit import AuditTables
from services.common.db import Database
from services.common.grants import GRANT_HEADER, GrantIssuer
from services.consult.db import KERNEL_TABLES as CONSULT_TABLES
from services.scheduling.models import KERNEL_TABLES, Appointment, Episode
from telemed.samples import sample_case, sample_patient
from tests.conftest import Actor
from tests.scheduling.conftest import SCHEDULING, World, assert_problem, local, new_id

CONSULT = "/api/consult"
FIRST_VISIT = local("2025-10-21", "10:00")


async def new_case(world: World, **overrides: Any) -> str:
    response = await world.client.post(
        f"{CONSULT}/cases",
        json=sample_case(world.centre["id"], **overrides),
        headers=world.medic.headers,
    )
    assert response.status_code == 201, response.text
    case_id: str = response.json()["id"]
    return case_id


async def link(
    world: World, case_id: str, actor: Actor, key: str | None = None, **body: Any
) -> httpx.Response:
    """Asks consult to open an episode of the patient with the cardiologist, linked to the case."""
    fields = {"patient_id": str(world.patient.id), "practitioner_id": str(world.cardiologist.id)}
    return await world.client.post(
        f"{CONSULT}/cases/{case_id}/episodes",
        json=fields | body,
        headers=actor.headers | ({"Idempotency-Key": key} if key else {}),
    )


async def open_directly(world: World, case_id: str, grant: dict[str, str]) -> httpx.Response:
    body = {"patient_id": str(world.patient.id), "specialty": "cardiology"}
    return await world.client.post(
        f"{SCHEDULING}/episodes",
        json=body | {"consult_case_id": case_id},
        headers=world.medic.headers | grant,
    )


async def stored(world: World, table: Any) -> list[tuple[str, str | None]]:
    """(id, consult case) of every episode or appointment scheduling keeps."""
    async with world.database.engine.connect() as connection:
        rows = await connection.execute(select(table.id, table.consult_case_id))
        return [(str(row.id), row.consult_case_id and str(row.consult_case_id)) for row in rows]


async def audited(database: Database, tables: AuditTables, action: str) -> list[tuple[str, Any]]:
    """(outcome, resource id) of each audit record of `action`, oldest first."""
    records = tables.records
    query = (
        select(records.c.outcome, records.c.resource_id)
        .where(records.c.action == action)
        .order_by(records.c.id)
    )
    async with database.engine.connect() as connection:
        return [(row.outcome, row.resource_id) for row in await connection.execute(query)]


def consult_database(world: World) -> Database:
    database: Database = world.stack.apps["consult"].state.database
    return database


async def test_consult_opens_an_episode_linked_to_the_case(world: World) -> None:
    case_id = await new_case(world)
    linked = await link(world, case_id, world.medic, key="link-1")
    assert linked.status_code == 201, linked.text
    episode = linked.json()
    assert episode["consult_case_id"] == case_id
    assert episode["specialty"] == "cardiology"  # the case's, as none was named
    assert episode["practitioner_id"] == str(world.cardiologist.id)
    assert linked.headers["location"] == f"{SCHEDULING}/episodes/{episode['id']}"
    read = await world.get(world.medic, f"/episodes/{episode['id']}")
    assert read.json()["consult_case_id"] == case_id

    replay = await link(world, case_id, world.medic, key="link-1")
    assert (replay.status_code, replay.json()) == (201, episode)
    assert replay.headers["idempotent-replayed"] == "true"
    assert await stored(world, Episode) == [(episode["id"], case_id)]
    assert await audited(consult_database(world), CONSULT_TABLES.audit, "case.link_episode") == [
        ("success", case_id)
    ]

    # A visit in the linked episode names its case without another grant.
    first = await world.booked(FIRST_VISIT, episode_id=episode["id"], consult_case_id=case_id)
    assert (first["episode_id"], first["consult_case_id"]) == (episode["id"], case_id)


async def test_consult_links_only_a_case_the_caller_sees_and_scheduling_still_decides(
    world: World,
) -> None:
    case_id = await new_case(world, submit=True)
    for refused in (
        await link(world, case_id, world.other_medic),  # another organisation's case
        await link(world, new_id(), world.medic),  # no such case
    ):
        assert "No case with this id" in assert_problem(refused, 404)["detail"]
    # The addressed cardiologist sees the case, but opening episodes is not theirs to do.
    specialist = assert_problem(await link(world, case_id, world.cardiologist), 403)
    assert "open episodes" in specialist["detail"]
    assert await stored(world, Episode) == []
    outcomes = await audited(consult_database(world), CONSULT_TABLES.audit, "case.link_episode")
    assert [outcome for outcome, _ in outcomes] == ["denied"] * 3


async def test_a_patients_request_is_linked_only_to_that_patients_episode(world: World) -> None:
    await world.fulfil_first_visit_of(await world.booked(FIRST_VISIT))
    asked = await world.client.post(
        f"{CONSULT}/patient-requests",
        json={"patient": sample_patient(), "specialty": "cardiology",
              "question": "Should I keep taking spironolactone?"},
        headers=world.patient.headers,
    )  # fmt: skip
    assert asked.status_code == 201, asked.text
    case_id = asked.json()["id"]
    other = await link(world, case_id, world.medic, patient_id=str(world.other_patient.id))
    assert "another patient" in assert_problem(other, 422)["detail"]
    own = await link(world, case_id, world.medic)
    assert own.status_code == 201, own.text
    assert (own.json()["patient_id"], own.json()["consult_case_id"]) == (
        str(world.patient.id),
        case_id,
    )


async def test_scheduling_links_a_case_only_with_consults_grant_for_it(world: World) -> None:
    case_id, other_case = await new_case(world), await new_case(world)
    forger = GrantIssuer(Ed25519PrivateKey.generate(), issuer="consult")
    forged, _ = forger.issue(
        audience="scheduling",
        subject=world.medic.id,
        purpose="case.link",
        case_id=uuid.UUID(case_id),
    )
    refusals: list[tuple[str, dict[str, str], str]] = [
        (case_id, {}, f"POST /api/consult/cases/{case_id}/episodes"),
        (new_id(), {}, "Only the consult service links"),
        (case_id, {GRANT_HEADER: forged}, "not signed by the consult service"),
        (case_id, world.grant(world.medic, other_case), f"is for case {other_case}"),
        (case_id, world.grant(world.other_medic, case_id), "issued to someone else"),
        (case_id, world.grant(world.medic, case_id, ttl_seconds=-120), "expired"),
        (case_id, world.grant(world.medic, case_id, purpose="case.pin"), "for case.pin"),
        (case_id, world.grant(world.medic, case_id, audience="files"), "Audience"),
        (case_id, {GRANT_HEADER: "not.a.grant"}, "not valid"),
    ]
    for named, grant, said in refusals:
        problem = assert_problem(await open_directly(world, named, grant), 403)
        assert said in problem["detail"], (said, problem)
        assert problem["case_id"] == named
    assert await stored(world, Episode) == []
    denied = await audited(world.database, KERNEL_TABLES.audit, "episode.create")
    assert denied == [("denied", None)] * len(refusals)

    # The same request with consult's grant for this case and this caller is accepted.
    opened = await open_directly(world, case_id, world.grant(world.medic, case_id))
    assert opened.status_code == 201, opened.text
    assert await stored(world, Episode) == [(opened.json()["id"], case_id)]


async def test_a_visit_names_a_case_only_as_its_episodes_or_with_consults_grant(
    world: World,
) -> None:
    case_id, other_case = await new_case(world), await new_case(world)
    # An in-person visit outside an episode opens one, which would take the case on.
    bare = assert_problem(await world.book(FIRST_VISIT, consult_case_id=case_id), 403)
    assert bare["case_id"] == case_id
    assert (await stored(world, Appointment), await stored(world, Episode)) == ([], [])

    granted = world.grant(world.medic, case_id)
    first = await world.booked(FIRST_VISIT, consult_case_id=case_id, grant=granted)
    assert first["consult_case_id"] == case_id
    assert await stored(world, Episode) == [(first["episode_id"], case_id)]
    await world.fulfil_first_visit_of(first)

    remote = {"visit_type": "remote", "episode_id": first["episode_id"], "patient_id": None}
    start = local("2025-10-28", "10:00")
    foreign = assert_problem(await world.book(start, consult_case_id=other_case, **remote), 403)
    assert foreign["case_id"] == other_case
    follow_up = await world.booked(start, consult_case_id=case_id, **remote)
    assert follow_up["consult_case_id"] == case_id
    assert sorted(await stored(world, Appointment)) == sorted(
        [(first["id"], case_id), (follow_up["id"], case_id)]
    )


async def test_the_openapi_documents_name_the_link_and_the_grant(world: World) -> None:
    consult = world.stack.apps["consult"].openapi()["paths"]
    link_route = consult["/api/consult/cases/{case_id}/episodes"]["post"]
    assert {"403", "404", "422"} <= set(link_route["responses"])
    scheduling = world.stack.apps["scheduling"].openapi()["paths"]
    for path in (f"{SCHEDULING}/episodes", f"{SCHEDULING}/appointments"):
        operation = scheduling[path]["post"]
        assert GRANT_HEADER in {parameter["name"] for parameter in operation["parameters"]}
        assert "403" in operation["responses"]
