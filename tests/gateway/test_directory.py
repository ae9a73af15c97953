"""Directory: organisations, users and API clients, with who may manage and see what."""

import uuid

from tests.conftest import TEST_PASSWORD, Stack
from tests.notify.conftest import audited


async def test_admin_registers_organisations_idempotently(stack: Stack) -> None:
    assert stack.admin is not None
    body = {"name": "Tashtagol District Hospital", "kind": "district_hospital", "region": "42",
            "timezone": "Asia/Novokuznetsk"}  # fmt: skip
    headers = {**stack.admin.headers, "Idempotency-Key": "org-tashtagol-1"}
    first = await stack.client.post("/api/directory/organizations", json=body, headers=headers)
    again = await stack.client.post("/api/directory/organizations", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    other = await stack.client.post(
        "/api/directory/organizations", json={**body, "region": "27"}, headers=headers
    )
    assert other.status_code == 422
    listed = await stack.client.get("/api/directory/organizations", headers=stack.admin.headers)
    assert [org["name"] for org in listed.json()] == ["Tashtagol District Hospital"]
    assert first.json()["working_hours"][0] == {"weekday": 0, "opens": "08:00:00",
                                                 "closes": "20:00:00"}  # fmt: skip


async def test_organisation_validation_errors_list_every_problem(stack: Stack) -> None:
    assert stack.admin is not None
    response = await stack.client.post(
        "/api/directory/organizations",
        json={"name": "X", "kind": "castle", "region": "42", "timezone": "Mars/Olympus",
              "working_hours": [{"weekday": 0, "opens": "20:00", "closes": "08:00"}]},
        headers=stack.admin.headers,
    )  # fmt: skip
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    locations = {tuple(error["loc"]) for error in response.json()["errors"]}
    assert {("body", "name"), ("body", "kind"), ("body", "timezone")} <= locations
    assert any(loc[:2] == ("body", "working_hours") for loc in locations)


async def test_only_admins_manage_the_directory(stack: Stack) -> None:
    centre = await stack.organization(kind="regional_centre")
    coordinator = await stack.actor("coordinator", centre)
    for path, body in [
        ("/api/directory/organizations", {"name": "Rogue", "kind": "other", "region": "42",
                                          "timezone": "UTC"}),
        ("/api/directory/users", {"username": "rogue.user", "password": "p" * 12,
                                  "full_name": "R", "role": "admin"}),
        ("/api/directory/api-clients", {"name": "Rogue MIS", "organization_id": centre["id"],
                                        "scopes": []}),
    ]:  # fmt: skip
        response = await stack.client.post(path, json=body, headers=coordinator.headers)
        assert response.status_code == 403, path


async def test_duplicate_username_is_a_conflict(stack: Stack) -> None:
    assert stack.admin is not None
    body = {"username": "dup.user", "password": TEST_PASSWORD, "full_name": "D", "role": "patient"}
    first = await stack.client.post("/api/directory/users", json=body, headers=stack.admin.headers)
    second = await stack.client.post("/api/directory/users", json=body, headers=stack.admin.headers)
    assert first.status_code == 201
    assert second.status_code == 409


async def test_user_rules_need_specialty_and_organisation(stack: Stack) -> None:
    assert stack.admin is not None
    response = await stack.client.post(
        "/api/directory/users",
        json={"username": "no.specialty", "password": "p" * 12, "full_name": "N",
              "role": "specialist"},
        headers=stack.admin.headers,
    )  # fmt: skip
    assert response.status_code == 422
    unknown_org = await stack.client.post(
        "/api/directory/users",
        json={"username": "lost.medic", "password": "p" * 12, "full_name": "L",
              "role": "district_medic", "organization_id": str(uuid.uuid4())},
        headers=stack.admin.headers,
    )  # fmt: skip
    assert unknown_org.status_code == 404


async def test_coordinators_see_users_of_their_region_only(stack: Stack) -> None:
    kuzbass = await stack.organization(kind="regional_centre", region="42")
    khabarovsk = await stack.organization(region="27", timezone="Asia/Vladivostok")
    coordinator = await stack.actor("coordinator", kuzbass)
    local = await stack.actor("district_medic", kuzbass)
    distant = await stack.actor("district_medic", khabarovsk)
    listed = await stack.client.get("/api/directory/users", headers=coordinator.headers)
    names = {user["username"] for user in listed.json()}
    assert local.username in names
    assert distant.username not in names
    seen = await stack.client.get(f"/api/directory/users/{local.id}", headers=coordinator.headers)
    hidden = await stack.client.get(
        f"/api/directory/users/{distant.id}", headers=coordinator.headers
    )
    assert seen.status_code == 200
    assert hidden.status_code == 404
    medic_list = await stack.client.get("/api/directory/users", headers=local.headers)
    assert medic_list.status_code == 403


async def test_specialists_list_the_specialists_of_their_region_only(stack: Stack) -> None:
    """Whom a consilium's chair may invite by name: no medic, nobody of another region."""
    kuzbass = await stack.organization(kind="regional_centre", region="42")
    khabarovsk = await stack.organization(
        kind="regional_centre", region="27", timezone="Asia/Vladivostok"
    )
    chair = await stack.actor("specialist", kuzbass, "cardiology")
    colleague = await stack.actor("specialist", kuzbass, "neurology")
    distant = await stack.actor("specialist", khabarovsk, "neurology")
    medic = await stack.actor("district_medic", kuzbass)
    listed = await stack.client.get(
        "/api/directory/users", params={"specialty": "neurology"}, headers=chair.headers
    )
    assert listed.status_code == 200
    assert {user["username"] for user in listed.json()} == {colleague.username}
    everyone = await stack.client.get("/api/directory/users", headers=chair.headers)
    assert {user["role"] for user in everyone.json()} == {"specialist"}
    assert medic.username not in {user["username"] for user in everyone.json()}
    assert distant.username not in {user["username"] for user in everyone.json()}


async def test_me_and_own_record(stack: Stack) -> None:
    hospital = await stack.organization()
    medic = await stack.actor("district_medic", hospital)
    me = await stack.client.get("/api/directory/me", headers=medic.headers)
    assert me.json()["username"] == medic.username
    assert me.json()["region"] == "42"
    own = await stack.client.get(f"/api/directory/users/{medic.id}", headers=medic.headers)
    assert own.status_code == 200


async def test_malformed_ids_are_validation_problems(stack: Stack) -> None:
    assert stack.admin is not None
    response = await stack.client.get(
        "/api/directory/organizations/not-a-uuid", headers=stack.admin.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["path", "organization_id"]


async def test_the_only_active_administrator_cannot_be_deactivated(stack: Stack) -> None:
    """Not by themselves, nor by another administrator once that one is the last."""
    assert stack.admin is not None
    root = stack.admin
    refused = await stack.client.post(
        f"/api/directory/users/{root.id}/deactivate", headers=root.headers
    )
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert "only active administrator" in refused.json()["detail"]
    deputy = await stack.actor("admin")
    assert (
        await stack.client.post(
            f"/api/directory/users/{root.id}/deactivate", headers=deputy.headers
        )
    ).status_code == 200
    alone = await stack.client.post(
        f"/api/directory/users/{deputy.id}/deactivate", headers=deputy.headers
    )
    assert alone.status_code == 409
    me = await stack.client.get("/api/directory/me", headers=deputy.headers)
    assert me.json()["is_active"] is True


async def test_doctors_see_their_organisation_and_the_regions_staff(stack: Stack) -> None:
    """What services check the people a request names against (`DirectoryClient.get_user`)."""
    hospital = await stack.organization(region="42")
    centre = await stack.organization(kind="regional_centre", region="42")
    distant = await stack.organization(region="27", timezone="Asia/Vladivostok")
    medic = await stack.actor("district_medic", hospital)
    visible = [
        await stack.actor("patient", hospital),
        await stack.actor("coordinator", hospital),
        await stack.actor("specialist", centre, "cardiology"),
        await stack.actor("district_medic", centre),
    ]
    hidden = [
        await stack.actor("patient", centre),  # another organisation's patient
        await stack.actor("patient"),  # a patient of no organisation
        await stack.actor("specialist", distant, "cardiology"),  # another region's staff
    ]
    assert stack.admin is not None
    for user in visible:
        seen = await stack.client.get(f"/api/directory/users/{user.id}", headers=medic.headers)
        assert seen.status_code == 200, user.username
        assert seen.json()["role"] == user.role
    for user in [*hidden, stack.admin]:
        refused = await stack.client.get(f"/api/directory/users/{user.id}", headers=medic.headers)
        assert refused.status_code == 404, user.username
    patient = visible[0]
    own = await stack.client.get(f"/api/directory/users/{medic.id}", headers=patient.headers)
    assert own.status_code == 404  # patients see themselves only


async def test_changing_an_unknown_client_is_a_404_on_the_audit_trail(stack: Stack) -> None:
    assert stack.admin is not None
    missing = uuid.uuid4()
    changes = {
        f"/api/directory/api-clients/{missing}": {"name": "MIS", "scopes": ["consult:read"]},
        f"/api/directory/oauth-clients/{missing}": {
            "name": "App", "redirect_uris": ["https://app.example.org/callback"]},
    }  # fmt: skip
    for path, body in changes.items():
        response = await stack.client.put(path, json=body, headers=stack.admin.headers)
        assert response.status_code == 404, response.text
        assert response.json()["detail"].endswith(f"client {missing}.")
    revoked = await stack.client.post(
        f"/api/directory/oauth-clients/{missing}/revoke", headers=stack.admin.headers
    )
    assert revoked.status_code == 404
    for action in ("api_client.update", "oauth_client.update", "oauth_client.revoke"):
        assert await audited(stack, action) == [("denied", str(stack.admin.id), str(missing))]
