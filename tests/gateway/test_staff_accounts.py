"""An administrator registers staff without choosing their password (the person is invited to
choose one), and finds users by part of their name."""

from gateway.notify.enums import Template
from tests.conftest import TEST_PASSWORD, Stack
from tests.gateway.accounts import messages

USERS = "/api/directory/users"


async def test_staff_registered_without_a_password_are_invited_to_choose_one(
    stack: Stack,
) -> None:
    assert stack.admin is not None
    hospital = await stack.organization()
    body = {
        "username": "petrova.medic",
        "full_name": "Анна Петрова",
        "role": "district_medic",
        "organization_id": hospital["id"],
        "email": "petrova@hospital.example",
    }
    created = await stack.client.post(USERS, json=body, headers=stack.admin.headers)
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]
    account = await stack.client.get(f"{USERS}/{user_id}/account", headers=stack.admin.headers)
    assert account.json()["can_sign_in"] is False
    refused = await stack.client.post(
        "/api/auth/token",
        data={"grant_type": "password", "username": "petrova.medic", "password": TEST_PASSWORD},
    )
    assert refused.status_code in (400, 401), refused.text
    invited = await stack.client.post(f"{USERS}/{user_id}/invite", headers=stack.admin.headers)
    assert invited.status_code == 202, invited.text
    assert invited.json()["channels"] == ["email"]
    assert len(await messages(stack, Template.ACCOUNT_INVITATION)) == 1
    short = {**body, "username": "short.password", "password": "short"}
    assert (
        await stack.client.post(USERS, json=short, headers=stack.admin.headers)
    ).status_code == 422


async def test_users_are_found_by_part_of_their_name(stack: Stack) -> None:
    assert stack.admin is not None
    headers = stack.admin.headers
    hospital = await stack.organization()
    medic = await stack.actor("district_medic", hospital)
    await stack.actor("registrar", hospital)

    async def found(q: str) -> list[str]:
        response = await stack.client.get(USERS, params={"q": q}, headers=headers)
        assert response.status_code == 200, response.text
        return [user["username"] for user in response.json()]

    assert await found(medic.username.upper()) == [medic.username]
    assert await found("district_medic") == [medic.username]  # full names "Test district_medic N"
    assert await found("%") == []  # a wildcard typed is a character sought
    assert len(await found("test")) == 2
