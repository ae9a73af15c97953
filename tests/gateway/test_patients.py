"""The patient register: staff register patients for the organisations they act for, with
duplicates caught; they find and correct them there, and every read is on the audit trail."""

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import Actor, Stack
from tests.consult.conftest import _api_client
from tests.gateway.callcentre import DIRECTORY, CallCentre, build

PATIENTS = f"{DIRECTORY}/patients"
POLICY = "4256789012345678"


@pytest.fixture
async def world(stack: Stack) -> CallCentre:
    return await build(stack)


def person(**overrides: Any) -> dict[str, Any]:
    body = {
        "full_name": "Сидорова Мария Петровна",
        "birth_date": "1956-03-14",
        "sex": "female",
        "phone": "+7 913 123-45-67",
        "language": "ru",
    }
    return body | overrides


async def register(
    world: CallCentre, actor: Actor, body: dict[str, Any], **headers: str
) -> httpx.Response:
    return await world.client.post(PATIENTS, json=body, headers=actor.headers | headers)


async def registered(world: CallCentre, actor: Actor, **overrides: Any) -> dict[str, Any]:
    response = await register(world, actor, person(**overrides))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_a_registrar_registers_a_patient_who_cannot_sign_in_yet(world: CallCentre) -> None:
    created = await registered(world, world.registrar_a, policy_number="4256 7890 1234 5678")
    assert created["organization_id"] == world.a["id"]
    assert created["policy_number"] == POLICY
    assert len(created["username"]) == 13
    assert created["username"].startswith("p")
    assert created["can_sign_in"] is False
    assert created["registered_by"] == str(world.registrar_a.id)
    # A user of role patient in the directory, which the services check bookings against.
    user = await world.client.get(
        f"{DIRECTORY}/users/{created['id']}", headers=world.medic_a.headers
    )
    assert user.status_code == 200
    assert (user.json()["role"], user.json()["organization_id"]) == ("patient", world.a["id"])
    assert (user.json()["birth_date"], user.json()["sex"]) == ("1956-03-14", "female")
    mis = await _api_client(world.stack, world.a, ["consult:read"])
    seen_by_mis = await world.client.get(f"{DIRECTORY}/users/{created['id']}", headers=mis.headers)
    assert seen_by_mis.json()["birth_date"] is None  # staff only
    # No password: no sign-in, whatever is tried.
    for password in ("", "x" * 12):
        token = await world.client.post(
            "/api/auth/token",
            data={"grant_type": "password", "username": created["username"], "password": password},
        )
        assert token.status_code in (400, 401), token.text
    assert await world.audited("patient.create") == [
        ("success", str(world.registrar_a.id), created["id"])
    ]


async def test_registration_is_idempotent(world: CallCentre) -> None:
    key = {"Idempotency-Key": "registry-desk-7"}
    first = await register(world, world.registrar_a, person(), **key)
    again = await register(world, world.registrar_a, person(), **key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert first.headers["location"] == f"{PATIENTS}/{first.json()['id']}"
    other = await register(world, world.registrar_a, person(sex="male"), **key)
    assert other.status_code == 422
    found = await world.client.get(PATIENTS, headers=world.registrar_a.headers)
    assert len(found.json()["items"]) == 1


async def test_who_registers_for_which_organisation(world: CallCentre) -> None:
    # The call centre registers for the polyclinic it serves, not for another.
    served = await registered(world, world.registrar, organization_id=world.a["id"])
    assert served["organization_id"] == world.a["id"]
    denied = await register(world, world.operator, person(organization_id=world.b["id"]))
    assert denied.status_code == 403
    assert denied.headers["content-type"] == "application/problem+json"
    elsewhere = await register(world, world.registrar_a, person(organization_id=world.b["id"]))
    assert elsewhere.status_code == 403
    # A coordinator registers for their own; an administrator for any, named.
    own = await registered(world, world.coordinator_a, full_name="Орлов Иван", policy_number=None)
    assert own["organization_id"] == world.a["id"]
    unnamed = await register(world, world.admin, person(full_name="Лапин Олег"))
    assert unnamed.status_code == 422
    assert unnamed.json()["errors"][0]["loc"] == ["body", "organization_id"]
    lost = await register(world, world.admin, person(organization_id=str(uuid.uuid4())))
    assert lost.status_code == 422
    by_admin = await registered(
        world, world.admin, full_name="Лапин Олег", organization_id=world.b["id"]
    )
    assert by_admin["organization_id"] == world.b["id"]
    # Doctors, patients and MIS clients do not keep the register.
    mis = await _api_client(world.stack, world.a, ["consult:write"])
    for actor in (world.medic_a, world.patient_a, mis):
        refused = await register(world, actor, person(full_name="Белов Павел"))
        assert refused.status_code == 403, actor.role
    outcomes = [outcome for outcome, _, _ in await world.audited("patient.create")]
    assert outcomes.count("success") == 3
    assert outcomes.count("denied") == 7  # 2 elsewhere, 2 unknown organisation, 3 roles


async def test_a_second_policy_number_is_a_conflict_naming_the_visible(world: CallCentre) -> None:
    first = await registered(world, world.registrar_a, policy_number=POLICY)
    again = await register(
        world, world.registrar, person(full_name="Другая Анна", policy_number=POLICY)
    )
    assert again.status_code == 409
    assert again.json()["reason"] == "policy_number"
    assert again.json()["duplicates"] == [
        {"id": first["id"], "full_name": "Сидорова Мария Петровна", "birth_date": "1956-03-14",
         "organization_id": world.a["id"]}
    ]  # fmt: skip
    # B's registry is refused too, but is not shown A's patient.
    hidden = await register(
        world, world.registrar_b, person(full_name="Другая Анна", policy_number=POLICY)
    )
    assert hidden.status_code == 409
    assert hidden.json()["duplicates"] == []
    # allow_namesake does not allow a second policy number.
    forced = await register(
        world, world.registrar_a, person(policy_number=POLICY, allow_namesake=True)
    )
    assert forced.status_code == 409
    assert forced.json()["reason"] == "policy_number"


async def test_a_namesake_born_the_same_day_is_a_conflict_unless_allowed(world: CallCentre) -> None:
    first = await registered(world, world.registrar_a)
    for full_name in ("  СИДОРОВА   мария ПЕТРОВНА ", "Сидорова Мария Пётровна"):
        namesake = await register(world, world.registrar, person(full_name=full_name))
        assert namesake.status_code == 409, full_name
        assert namesake.json()["reason"] == "namesake"
        assert [item["id"] for item in namesake.json()["duplicates"]] == [first["id"]]
    other_day = await register(world, world.registrar_a, person(birth_date="1956-03-15"))
    assert other_day.status_code == 201
    allowed = await register(world, world.registrar_a, person(allow_namesake=True))
    assert allowed.status_code == 201
    assert allowed.json()["full_name"] == "Сидорова Мария Петровна"
    # A namesake B's registry cannot see is none of theirs to know.
    assert (await register(world, world.registrar_b, person())).status_code == 201


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"policy_number": "12345"}, "policy_number"),
        ({"policy_number": "425678901234567X"}, "policy_number"),
        ({"birth_date": (date.today() + timedelta(days=2)).isoformat()}, "birth_date"),
        ({"birth_date": "1899-12-31"}, "birth_date"),
        ({"sex": "unknown"}, "sex"),
        ({"language": "de"}, "language"),
        ({"full_name": "   "}, "full_name"),
        ({"phone": "call me"}, "phone"),
        ({"email": "nobody"}, "email"),
        ({"diagnosis": "I21.4"}, "diagnosis"),
    ],
)
async def test_bad_registrations_are_refused_naming_the_field(
    world: CallCentre, change: dict[str, Any], field: str
) -> None:
    response = await register(world, world.registrar_a, person(**change))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in {error["loc"][1] for error in response.json()["errors"]}


async def search(world: CallCentre, actor: Actor, **params: Any) -> httpx.Response:
    return await world.client.get(PATIENTS, params=params, headers=actor.headers)


async def names(world: CallCentre, actor: Actor, **params: Any) -> list[str]:
    response = await search(world, actor, **params)
    assert response.status_code == 200, response.text
    return [item["full_name"] for item in response.json()["items"]]


async def test_search_within_the_organisations_acted_for(world: CallCentre) -> None:
    await registered(world, world.registrar_a, policy_number=POLICY)
    await registered(world, world.registrar_a, full_name="Марьина Ольга", birth_date="1980-01-02")
    await registered(world, world.registrar_a, full_name="Орлов Пётр Иванович")
    await registered(world, world.registrar_b, full_name="Сидоров Марк")
    # Any part of the name, case and ё aside; names that start with it come first.
    capitals = "\u041c\u0410\u0420"
    assert await names(world, world.registrar_a, q=capitals) == [
        "Марьина Ольга",
        "Сидорова Мария Петровна",
    ]
    assert await names(world, world.registrar_a, q="петр") == [
        "Орлов Пётр Иванович",
        "Сидорова Мария Петровна",
    ]
    assert await names(world, world.registrar_a, q="%") == []
    assert await names(world, world.registrar_a, birth_date="1980-01-02") == ["Марьина Ольга"]
    assert await names(world, world.registrar_a, policy_number=POLICY) == [
        "Сидорова Мария Петровна"
    ]
    # The call centre finds A's patients, not B's; B's registry only B's.
    assert await names(world, world.registrar, q="сидоров") == ["Сидорова Мария Петровна"]
    assert await names(world, world.registrar_b, q="сидоров") == ["Сидоров Марк"]
    assert len(await names(world, world.admin)) == 4
    # Paginated.
    page = (await search(world, world.registrar_a, limit=2)).json()
    assert (len(page["items"]), page["next_offset"]) == (2, 2)
    rest = (await search(world, world.registrar_a, limit=2, offset=2)).json()
    assert (len(rest["items"]), rest["next_offset"]) == (1, None)
    for params in ({"limit": 101}, {"policy_number": "12"}, {"birth_date": "yesterday"}):
        assert (await search(world, world.registrar_a, **params)).status_code == 422
    for actor in (world.medic_a, world.patient_a):
        assert (await search(world, actor)).status_code == 403
    # Each patient a search shows is an audited read.
    reads = await world.audited("patient.read")
    assert ("success", str(world.registrar.id)) in {entry[:2] for entry in reads}
    assert len(reads) == 2 + 2 + 1 + 1 + 1 + 1 + 4 + 2 + 1


async def test_read_and_correct_a_registration(world: CallCentre) -> None:
    created = await registered(world, world.registrar_a, email="sidorova@example.ru")
    other = await registered(world, world.registrar_b, full_name="Орлов Иван", policy_number=POLICY)
    path = f"{PATIENTS}/{created['id']}"
    for actor in (world.registrar_a, world.registrar, world.operator, world.coordinator_a):
        assert (await world.client.get(path, headers=actor.headers)).status_code == 200
    assert (await world.client.get(path, headers=world.admin.headers)).status_code == 200
    hidden = await world.client.get(path, headers=world.registrar_b.headers)
    assert hidden.status_code == 404
    assert (await world.client.get(path, headers=world.medic_a.headers)).status_code == 403
    # A patient without a registration record (made by an administrator) is none of these.
    unregistered = f"{PATIENTS}/{world.patient_a.id}"
    response = await world.client.get(unregistered, headers=world.registrar_a.headers)
    assert response.status_code == 404

    async def patch(body: dict[str, Any], actor: Actor = world.registrar) -> httpx.Response:
        return await world.client.patch(path, json=body, headers=actor.headers)

    changed = await patch({"full_name": "Сидорова-Лапина Мария", "email": None, "language": "en"})
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["full_name"], body["email"], body["language"], body["phone"]) == (
        "Сидорова-Лапина Мария", None, "en", "+79131234567"
    )  # fmt: skip
    assert await names(world, world.registrar_a, q="лапина") == ["Сидорова-Лапина Мария"]
    taken = await patch({"policy_number": POLICY})
    assert taken.status_code == 409
    assert taken.json()["reason"] == "policy_number"
    assert taken.json()["duplicates"] == []  # B's patient, whom the call centre does not see
    taken_by_admin = await patch({"policy_number": POLICY}, world.admin)
    assert [item["id"] for item in taken_by_admin.json()["duplicates"]] == [other["id"]]
    assert (await patch({"full_name": None})).status_code == 422
    assert (await patch({"birth_date": "1850-01-01"})).status_code == 422
    assert (await patch({"sex": "male"}, world.registrar_b)).status_code == 404
    own_policy = await patch({"policy_number": "1111222233334444"})
    assert own_policy.json()["policy_number"] == "1111222233334444"
    assert (await patch({"policy_number": "1111222233334444"})).status_code == 200
    outcomes = [(outcome, actor) for outcome, actor, _ in await world.audited("patient.update")]
    assert outcomes.count(("success", str(world.registrar.id))) == 3


async def test_a_rename_anywhere_keeps_the_register_in_step(world: CallCentre) -> None:
    created = await registered(world, world.registrar_a)
    renamed = await world.client.patch(
        f"{DIRECTORY}/users/{created['id']}",
        json={"full_name": "Лапина Мария Петровна"},
        headers=world.admin.headers,
    )
    assert renamed.status_code == 200, renamed.text
    assert await names(world, world.registrar_a, q="лапина") == ["Лапина Мария Петровна"]
    assert await names(world, world.registrar_a, q="сидорова") == []
    # Someone who is no longer a patient is no longer in the register.
    moved = await world.client.patch(
        f"{DIRECTORY}/users/{created['id']}",
        json={"role": "registrar", "organization_id": world.a["id"]},
        headers=world.admin.headers,
    )
    assert moved.status_code == 200, moved.text
    assert await names(world, world.registrar_a) == []
    gone = await world.client.get(f"{PATIENTS}/{created['id']}", headers=world.registrar_a.headers)
    assert gone.status_code == 404
