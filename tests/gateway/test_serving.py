"""Organisations that serve others: the links an administrator sets, the organisations a
caller acts for, and the patients the directory shows a call centre because of them."""

import uuid
from pathlib import Path

import pytest

from gateway.settings import GatewaySettings
from telemed.demo.seed import seed_demo
from telemed.registry import spec
from tests.conftest import Stack
from tests.consult.conftest import _api_client
from tests.gateway.callcentre import DIRECTORY, CallCentre, build


@pytest.fixture
async def world(stack: Stack) -> CallCentre:
    return await build(stack)


async def test_the_organisation_view_shows_whom_it_serves(world: CallCentre) -> None:
    centre, a, b = world.centre["id"], world.a["id"], world.b["id"]
    one = await world.client.get(
        f"{DIRECTORY}/organizations/{centre}", headers=world.patient_b.headers
    )
    assert one.status_code == 200
    assert one.json()["serves"] == [a]
    replaced = await world.serve(world.centre, world.b, world.a, world.b)
    assert replaced.status_code == 200, replaced.text
    assert sorted(replaced.json()["serves"]) == sorted([a, b])
    listed = await world.client.get(f"{DIRECTORY}/organizations", headers=world.medic_a.headers)
    serves = {item["id"]: item["serves"] for item in listed.json()}
    assert sorted(serves[centre]) == sorted([a, b])
    assert serves[a] == serves[b] == []
    assert (await world.serve(world.centre)).json()["serves"] == []
    # Replacing an organisation's details leaves its links alone.
    await world.serve(world.centre, world.a)
    fields = {name: world.centre[name] for name in ("name", "kind", "region", "timezone")}
    put = await world.client.put(
        f"{DIRECTORY}/organizations/{centre}", json=fields, headers=world.admin.headers
    )
    assert put.json()["serves"] == [a]
    outcomes = [outcome for outcome, _, resource in await world.audited("organization.serve")]
    assert outcomes == ["success"] * 4


async def test_links_are_refused_when_wrong(world: CallCentre) -> None:
    itself = await world.serve(world.centre, world.a, world.centre)
    assert itself.status_code == 422
    assert itself.json()["errors"][0]["loc"] == ["body", "organization_ids", 1]
    unknown = await world.client.put(
        f"{DIRECTORY}/organizations/{world.centre['id']}/served",
        json={"organization_ids": [str(uuid.uuid4())]},
        headers=world.admin.headers,
    )
    assert unknown.status_code == 422
    missing = await world.client.put(
        f"{DIRECTORY}/organizations/{uuid.uuid4()}/served",
        json={"organization_ids": [world.a["id"]]},
        headers=world.admin.headers,
    )
    assert missing.status_code == 404
    for actor in (world.operator, world.registrar, world.coordinator_a):
        denied = await world.client.put(
            f"{DIRECTORY}/organizations/{world.centre['id']}/served",
            json={"organization_ids": [world.b["id"]]},
            headers=actor.headers,
        )
        assert denied.status_code == 403
        assert denied.headers["content-type"] == "application/problem+json"
    # Nothing changed; every refusal is on record.
    view = await world.client.get(
        f"{DIRECTORY}/organizations/{world.centre['id']}", headers=world.admin.headers
    )
    assert view.json()["serves"] == [world.a["id"]]
    outcomes = [outcome for outcome, _, _ in await world.audited("organization.serve")]
    assert outcomes == ["success"] + ["denied"] * 6


async def test_a_caller_acts_for_their_own_and_the_served(world: CallCentre) -> None:
    mine = await world.client.get(f"{DIRECTORY}/me/organizations", headers=world.registrar.headers)
    assert mine.status_code == 200
    assert [(item["id"], item["relation"]) for item in mine.json()] == [
        (world.centre["id"], "own"),
        (world.a["id"], "served"),
    ]
    assert mine.json()[1]["name"] == world.a["name"]
    own = await world.client.get(f"{DIRECTORY}/me/organizations", headers=world.medic_a.headers)
    assert [item["id"] for item in own.json()] == [world.a["id"]]
    admin = await world.client.get(f"{DIRECTORY}/me/organizations", headers=world.admin.headers)
    assert admin.json() == []
    anonymous = await world.client.get(f"{DIRECTORY}/me/organizations")
    assert anonymous.status_code == 401


async def test_the_directory_shows_a_call_centre_the_served_patients(world: CallCentre) -> None:
    async def status(actor_key: str, user_id: uuid.UUID) -> int:
        actor = getattr(world, actor_key)
        response = await world.client.get(f"{DIRECTORY}/users/{user_id}", headers=actor.headers)
        return response.status_code

    a, b = world.patient_a.id, world.patient_b.id
    # The call centre is of region 54: the link, not the region, shows it A's patients.
    assert await status("registrar", a) == await status("operator", a) == 200
    assert await status("registrar", b) == await status("operator", b) == 404
    # A registrar sees their own organisation's patients and the region's staff, not B's.
    assert await status("registrar_a", a) == 200
    assert await status("registrar_a", b) == 404
    assert await status("registrar_a", world.medic_a.id) == 200
    assert await status("registrar_a", world.registrar_b.id) == 404
    # The call centre's staff see no other users of A, and none of region 42's staff.
    assert await status("registrar", world.medic_a.id) == 404
    # Ending the link ends what it showed.
    await world.serve(world.centre)
    assert await status("registrar", a) == await status("operator", a) == 404


async def test_an_api_client_sees_its_organisations_patients_only(world: CallCentre) -> None:
    mis = await _api_client(world.stack, world.a, ["consult:read"])
    for user, expected in [
        (world.patient_a.id, 200),
        (world.patient_b.id, 404),
        (world.medic_a.id, 404),
        (world.registrar_a.id, 404),
    ]:
        response = await world.client.get(f"{DIRECTORY}/users/{user}", headers=mis.headers)
        assert response.status_code == expected, user


async def test_the_demo_call_centre_serves_two_of_its_organisations(
    stack: Stack,
    clean_databases: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("TELEMED_GATEWAY_DATABASE_URL", clean_databases["gateway"])
    monkeypatch.setenv("TELEMED_GATEWAY_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("TELEMED_GATEWAY_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("TELEMED_GATEWAY_ARGON2_MEMORY_KIB", "64")
    consult = spec("consult").settings(database_url=clean_databases["consult"], var_dir=tmp_path)
    video = spec("video").settings(database_url=clean_databases["video"], var_dir=tmp_path)
    await seed_demo(GatewaySettings(), consult, video)
    accounts = await seed_demo(GatewaySettings(), consult, video)  # again: nothing doubles
    (registrar,) = [u for u in accounts["users"] if u["username"] == "registrar.callcentre"]
    assert registrar["role"] == "registrar"
    token = (await stack.login("registrar.callcentre", registrar["password"]))["access_token"]
    mine = await stack.client.get(
        f"{DIRECTORY}/me/organizations", headers={"Authorization": f"Bearer {token}"}
    )
    names = [(item["name"], item["relation"]) for item in mine.json()]
    assert names == [
        ("Kuzbass Patient Call Centre", "own"),
        ("Kemerovo City Polyclinic No. 5", "served"),
        ("Tashtagol District Hospital", "served"),
    ]
    kinds = {item["name"]: item["kind"] for item in accounts["organizations"]}
    assert kinds["Kuzbass Patient Call Centre"] == "call_centre"
