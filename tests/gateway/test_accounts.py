"""The account lifecycle through the gateway: changing one's password, password links (an
administrator's reset, a self-service reset, an invitation) and using them, unlocking,
changing, deactivating and reactivating users, and one's own profile."""

import time
import uuid
from datetime import timedelta

import httpx
from sqlalchemy import update

from gateway.accounts.models import PasswordLink
from gateway.notify.enums import Template
from services.common.db import utcnow
from tests.conftest import TEST_PASSWORD, Actor, Stack
from tests.gateway.accounts import (
    USERS,
    api_client_tokens,
    bearer,
    link_token,
    messages,
    register_patient,
    set_contacts,
)
from tests.gateway.test_revocation import accepted_everywhere, refused_after
from tests.gateway.test_signin import from_address, password

TOKEN = "/api/auth/token"
CHANGE = "/api/auth/password"
RESET = "/api/auth/password-reset"
COMPLETE = "/api/auth/password-reset/complete"
NEW_PASSWORD = "plum orbit candle 47"


def problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    return body


async def medic_with_email(stack: Stack) -> Actor:
    medic = await stack.actor("district_medic", await stack.organization())
    await set_contacts(stack, medic, email=f"{medic.username}@hospital.example")
    return medic


async def admin_reset(stack: Stack, user: Actor) -> str:
    """An administrator sends `user` a reset link; the token the message carries."""
    assert stack.admin is not None
    response = await stack.client.post(
        f"{USERS}/{user.id}/password-reset", headers=stack.admin.headers
    )
    assert response.status_code == 202, response.text
    (message, *_) = reversed(await messages(stack, Template.ACCOUNT_PASSWORD_RESET))
    return link_token(message)


# Changing one's own password


async def test_changing_ones_password_ends_the_other_sign_ins_only(stack: Stack) -> None:
    medic = await stack.actor("district_medic", await stack.organization())
    other = await stack.login(medic.username)
    await accepted_everywhere(stack, bearer(other))
    started = time.monotonic()
    changed = await stack.client.post(
        CHANGE,
        json={"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD},
        headers=medic.headers,
    )
    assert changed.status_code == 204, changed.text
    await refused_after(stack, bearer(other), started)
    renewal = {"grant_type": "refresh_token", "refresh_token": other["refresh_token"]}
    assert (await stack.client.post(TOKEN, data=renewal)).status_code == 400
    await accepted_everywhere(stack, medic.headers)  # the sign-in that changed it goes on
    assert (await stack.client.post(TOKEN, data=password(medic.username, TEST_PASSWORD))
            ).status_code == 400  # fmt: skip
    await stack.login(medic.username, NEW_PASSWORD)
    me = await stack.client.get("/api/directory/me", headers=medic.headers)
    assert me.json()["password_changed_at"] is not None


async def test_a_wrong_current_password_is_refused_and_counted(stack: Stack) -> None:
    medic = await stack.actor("district_medic", await stack.organization())
    wrong = {"current_password": "not my password", "new_password": NEW_PASSWORD}
    for _ in range(5):
        body = problem(await stack.client.post(CHANGE, json=wrong, headers=medic.headers), 403)
        assert "current password is wrong" in str(body["detail"])
    throttled = await stack.client.post(CHANGE, json=wrong, headers=medic.headers)
    problem(throttled, 429)
    assert int(throttled.headers["retry-after"]) > 0
    # Counted as failed sign-ins: the same address cannot sign in either.
    assert (await stack.client.post(TOKEN, data=password(medic.username, TEST_PASSWORD))
            ).status_code == 429  # fmt: skip


async def test_a_new_password_must_meet_the_rules(stack: Stack) -> None:
    medic = await stack.actor("district_medic", await stack.organization())
    for new, reason in (("short", "short"), ("1234567890", "common"), (medic.username, "weak")):
        body = problem(
            await stack.client.post(
                CHANGE,
                json={"current_password": TEST_PASSWORD, "new_password": new},
                headers=medic.headers,
            ),
            422,
        )
        assert body["reason"] == reason
        assert body["suggestions"]
    same = {"current_password": TEST_PASSWORD, "new_password": TEST_PASSWORD}
    problem(await stack.client.post(CHANGE, json=same, headers=medic.headers), 422)
    # Weak choices are not wrong guesses: nothing was counted against the account.
    await stack.login(medic.username)


async def test_api_clients_have_no_password_to_change(stack: Stack) -> None:
    token = await api_client_tokens(stack)
    body = {"current_password": "whatever-it-is", "new_password": NEW_PASSWORD}
    problem(await stack.client.post(CHANGE, json=body, headers=bearer(token)), 404)


# Password links: an administrator's reset


async def test_an_administrators_reset_sends_a_link_and_never_shows_it(stack: Stack) -> None:
    assert stack.admin is not None
    medic = await medic_with_email(stack)
    response = await stack.client.post(
        f"{USERS}/{medic.id}/password-reset", headers=stack.admin.headers
    )
    assert response.status_code == 202
    assert response.json()["channels"] == ["email"]
    (message,) = await messages(stack, Template.ACCOUNT_PASSWORD_RESET)
    assert message.recipient_id == medic.id
    assert message.params["valid_hours"] == 1
    assert message.params["link"].startswith("http://127.0.0.1:8000/account/password?token=")
    assert link_token(message) not in response.text
    expires = response.json()["expires_at"]
    assert expires > (utcnow() + timedelta(minutes=59)).isoformat()[:16]


async def test_only_administrators_reset_and_only_to_a_reachable_person(stack: Stack) -> None:
    assert stack.admin is not None
    hospital = await stack.organization()
    coordinator = await stack.actor("coordinator", hospital)
    medic = await stack.actor("district_medic", hospital)
    url = f"{USERS}/{medic.id}/password-reset"
    for caller in (coordinator, medic):
        problem(await stack.client.post(url, headers=caller.headers), 403)
    nowhere = problem(await stack.client.post(url, headers=stack.admin.headers), 409)
    assert "nowhere to send" in str(nowhere["detail"])
    unknown = f"{USERS}/{uuid.uuid4()}/password-reset"
    problem(await stack.client.post(unknown, headers=stack.admin.headers), 404)
    await set_contacts(stack, medic, phone="+79131234567")  # no SMS provider is configured
    problem(await stack.client.post(url, headers=stack.admin.headers), 409)
    await set_contacts(stack, medic, email="medic@hospital.example")
    await stack.client.post(f"{USERS}/{medic.id}/deactivate", headers=stack.admin.headers)
    deactivated = problem(await stack.client.post(url, headers=stack.admin.headers), 409)
    assert "deactivated" in str(deactivated["detail"])
    assert await messages(stack, Template.ACCOUNT_PASSWORD_RESET) == []


async def test_a_link_sets_the_password_once_and_ends_every_sign_in(stack: Stack) -> None:
    medic = await medic_with_email(stack)
    await accepted_everywhere(stack, medic.headers)
    token = await admin_reset(stack, medic)
    weak = problem(
        await stack.client.post(COMPLETE, json={"token": token, "new_password": "qwertyuiop"}),
        422,
    )
    assert weak["reason"] == "common"  # and the link still works:
    started = time.monotonic()
    done = await stack.client.post(COMPLETE, json={"token": token, "new_password": NEW_PASSWORD})
    assert done.status_code == 200, done.text
    assert done.json() == {"username": medic.username}
    await refused_after(stack, medic.headers, started)
    renewal = {"grant_type": "refresh_token", "refresh_token": medic.refresh_token}
    assert (await stack.client.post(TOKEN, data=renewal)).status_code == 400
    again = problem(
        await stack.client.post(
            COMPLETE, json={"token": token, "new_password": "x" + NEW_PASSWORD}
        ),
        400,
    )
    assert again["reason"] == "used"
    signed_in = await stack.login(medic.username, NEW_PASSWORD)
    await accepted_everywhere(stack, bearer(signed_in))


async def test_expired_unknown_and_replaced_links_are_refused(stack: Stack) -> None:
    medic = await medic_with_email(stack)
    first = await admin_reset(stack, medic)
    second = await admin_reset(stack, medic)
    replaced = problem(
        await stack.client.post(COMPLETE, json={"token": first, "new_password": NEW_PASSWORD}),
        400,
    )
    assert replaced["reason"] == "unknown"
    async with stack.apps["gateway"].state.database.sessionmaker() as session:
        await session.execute(
            update(PasswordLink).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()
    expired = problem(
        await stack.client.post(COMPLETE, json={"token": second, "new_password": NEW_PASSWORD}),
        400,
    )
    assert expired["reason"] == "expired"
    forged = {"token": "x" * 43, "new_password": NEW_PASSWORD}
    problem(await stack.client.post(COMPLETE, json=forged), 400)
    await stack.login(medic.username)  # the password is what it was


async def test_a_link_frees_an_account_slowed_by_strangers(stack: Stack) -> None:
    medic = await medic_with_email(stack)
    async with from_address(stack, "198.51.100.7") as stranger:
        for _ in range(5):
            await stranger.post(TOKEN, data=password(medic.username, "wrong-wrong"))
        token = await admin_reset(stack, medic)
        assert (await stranger.post(COMPLETE, json={"token": token, "new_password": NEW_PASSWORD})
                ).status_code == 200  # fmt: skip
        signed_in = await stranger.post(TOKEN, data=password(medic.username, NEW_PASSWORD))
        assert signed_in.status_code == 200


# Password links: self-service


async def test_self_service_reset_answers_the_same_for_anyone(stack: Stack) -> None:
    medic = await medic_with_email(stack)
    for who in ("nobody.here", "nobody@nowhere.example"):
        response = await stack.client.post(RESET, json={"username_or_email": who})
        assert response.status_code == 202
        assert response.content == b""
    assert await messages(stack, Template.ACCOUNT_PASSWORD_RESET) == []
    by_name = await stack.client.post(RESET, json={"username_or_email": medic.username})
    assert by_name.status_code == 202
    address = f"{medic.username}@hospital.example".upper()
    by_email = await stack.client.post(RESET, json={"username_or_email": address})
    assert by_email.status_code == 202
    sent = await messages(stack, Template.ACCOUNT_PASSWORD_RESET)
    assert [message.recipient_id for message in sent] == [medic.id, medic.id]
    # The newer link replaced the older one.
    older = {"token": link_token(sent[0]), "new_password": NEW_PASSWORD}
    problem(await stack.client.post(COMPLETE, json=older), 400)
    newer = {"token": link_token(sent[1]), "new_password": NEW_PASSWORD}
    assert (await stack.client.post(COMPLETE, json=newer)).status_code == 200


async def test_self_service_reset_is_throttled_per_address(stack: Stack) -> None:
    medic = await medic_with_email(stack)
    body = {"username_or_email": medic.username}
    async with (
        from_address(stack, "198.51.100.9") as pest,
        from_address(stack, "203.0.113.5") as owner,
    ):
        for _ in range(5):
            assert (await pest.post(RESET, json=body)).status_code == 202
        throttled = await pest.post(RESET, json=body)
        problem(throttled, 429)
        assert (await owner.post(RESET, json=body)).status_code == 202
        # Reset requests are not failed sign-ins: the pest's address still signs in.
        assert (await pest.post(TOKEN, data=password(medic.username, TEST_PASSWORD))
                ).status_code == 200  # fmt: skip
    assert len(await messages(stack, Template.ACCOUNT_PASSWORD_RESET)) == 6


# Invitations


async def test_inviting_a_registered_patient_to_sign_in(stack: Stack) -> None:
    assert stack.admin is not None
    polyclinic = await stack.organization(kind="polyclinic")
    coordinator = await stack.actor("coordinator", polyclinic)
    medic = await stack.actor("district_medic", polyclinic)
    far = await stack.organization(region="27", timezone="Asia/Vladivostok")
    elsewhere = await stack.actor("coordinator", far)
    patient = await register_patient(
        stack, coordinator, polyclinic, full_name="Мария Петровна Сидорова",
        birth_date="1956-03-14", sex="female", email="sidorova@mail.example",
    )  # fmt: skip
    url = f"{USERS}/{patient['id']}/invite"
    problem(await stack.client.post(url, headers=medic.headers), 403)
    problem(await stack.client.post(url, headers=elsewhere.headers), 404)
    invited = await stack.client.post(url, headers=coordinator.headers)
    assert invited.status_code == 202, invited.text
    (message,) = await messages(stack, Template.ACCOUNT_INVITATION)
    assert message.recipient_id == uuid.UUID(patient["id"])
    assert message.params["organization_name"] == polyclinic["name"]
    assert message.params["valid_hours"] == 72
    chosen = {"token": link_token(message), "new_password": NEW_PASSWORD}
    assert (await stack.client.post(COMPLETE, json=chosen)).status_code == 200
    tokens = await stack.login(patient["username"], NEW_PASSWORD)
    me = await stack.client.get("/api/directory/me", headers=bearer(tokens))
    assert me.json()["can_sign_in"] is True
    # A person with a password is sent a reset, not an invitation.
    problem(await stack.client.post(url, headers=stack.admin.headers), 409)


async def test_administrators_invite_anyone_without_a_password(stack: Stack) -> None:
    assert stack.admin is not None
    registrar = await stack.actor("registrar", polyclinic := await stack.organization())
    patient = await register_patient(
        stack, registrar, polyclinic, full_name="Иван Кузнецов", birth_date="1960-01-02",
        sex="male", phone="+79131234567",
    )  # fmt: skip
    url = f"{USERS}/{patient['id']}/invite"
    nowhere = problem(await stack.client.post(url, headers=stack.admin.headers), 409)
    assert "nowhere to send" in str(nowhere["detail"])  # a phone, but no SMS provider
    await set_contacts(stack, patient, email="kuznetsov@mail.example")
    assert (await stack.client.post(url, headers=registrar.headers)).status_code == 202
    assert (await stack.client.post(url, headers=stack.admin.headers)).status_code == 202
    assert len(await messages(stack, Template.ACCOUNT_INVITATION)) == 2


# Unlocking, changing, deactivating and reactivating users


async def test_an_administrator_unlocks_an_account(stack: Stack) -> None:
    assert stack.admin is not None
    medic = await stack.actor("district_medic", await stack.organization())
    for _ in range(5):
        await stack.client.post(TOKEN, data=password(medic.username, "wrong-wrong"))
    problem(await stack.client.post(TOKEN, data=password(medic.username, TEST_PASSWORD)), 429)
    url = f"{USERS}/{medic.id}/unlock"
    problem(await stack.client.post(url, headers=medic.headers), 403)
    unlocked = await stack.client.post(url, headers=stack.admin.headers)
    assert unlocked.status_code == 200
    assert unlocked.json()["failures_cleared"] >= 5
    await stack.login(medic.username)


async def test_changing_a_users_role_ends_their_sign_ins(stack: Stack) -> None:
    assert stack.admin is not None
    hospital = await stack.organization()
    medic = await stack.actor("district_medic", hospital)
    await accepted_everywhere(stack, medic.headers)
    started = time.monotonic()
    changed = await stack.client.patch(
        f"{USERS}/{medic.id}",
        json={"role": "coordinator", "email": "Lead@Hospital.Example", "language": "en"},
        headers=stack.admin.headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["role"] == "coordinator"
    assert changed.json()["email"] == "Lead@hospital.example"
    await refused_after(stack, medic.headers, started)
    renewal = {"grant_type": "refresh_token", "refresh_token": medic.refresh_token}
    assert (await stack.client.post(TOKEN, data=renewal)).status_code == 400
    again = await stack.login(medic.username)
    me = await stack.client.get("/api/directory/me", headers=bearer(again))
    assert me.json()["role"] == "coordinator"
    assert me.json()["language"] == "en"
    # Contacts are not in tokens: changing them ends nothing.
    await stack.client.patch(
        f"{USERS}/{medic.id}", json={"phone": "8 913 123-45-67"}, headers=stack.admin.headers
    )
    await accepted_everywhere(stack, bearer(again))


async def test_a_change_holds_to_the_rules_of_creating_a_user(stack: Stack) -> None:
    assert stack.admin is not None
    hospital = await stack.organization()
    medic = await stack.actor("district_medic", hospital)
    url = f"{USERS}/{medic.id}"
    for body, status in [
        ({"role": "specialist"}, 422),  # a specialist needs a specialty
        ({"specialty": "cardiology"}, 422),  # only specialists have one
        ({"organization_id": None}, 422),  # staff belong to an organisation
        ({"organization_id": str(uuid.uuid4())}, 422),
        ({"role": "api_client"}, 422),
        ({"role": None}, 422),
        ({"email": "not-an-address"}, 422),
        ({"phone": "12345"}, 422),
        ({"language": "de"}, 422),
        ({"username": "renamed"}, 422),
    ]:
        response = await stack.client.patch(url, json=body, headers=stack.admin.headers)
        problem(response, status)
    problem(await stack.client.patch(url, json={"full_name": "X"}, headers=medic.headers), 403)
    unknown = f"{USERS}/{uuid.uuid4()}"
    problem(await stack.client.patch(unknown, json={"full_name": "X"},
                                     headers=stack.admin.headers), 404)  # fmt: skip
    specialist = await stack.client.patch(
        url, json={"role": "specialist", "specialty": "Cardiology"}, headers=stack.admin.headers
    )
    assert specialist.status_code == 200
    assert specialist.json()["specialty"] == "cardiology"


async def test_administrators_cannot_lock_themselves_out(stack: Stack) -> None:
    assert stack.admin is not None
    root = stack.admin
    deputy = await stack.actor("admin")
    own_role = await stack.client.patch(
        f"{USERS}/{root.id}", json={"role": "coordinator"}, headers=root.headers
    )
    problem(own_role, 403)
    themselves = await stack.client.post(f"{USERS}/{deputy.id}/deactivate", headers=deputy.headers)
    assert "yourself" in str(problem(themselves, 403)["detail"])
    demoted = await stack.client.patch(
        f"{USERS}/{deputy.id}", json={"full_name": "Deputy Admin"}, headers=root.headers
    )
    assert demoted.status_code == 200  # their own name an administrator may change


async def test_deactivating_ends_sign_ins_and_reactivating_lets_them_in(stack: Stack) -> None:
    assert stack.admin is not None
    medic = await stack.actor("district_medic", await stack.organization())
    await stack.login(medic.username)
    sessions = f"{USERS}/{medic.id}/sessions"
    listed = await stack.client.get(sessions, headers=stack.admin.headers)
    assert len(listed.json()) == 2
    reactivate = f"{USERS}/{medic.id}/reactivate"
    problem(await stack.client.post(reactivate, headers=stack.admin.headers), 409)
    await stack.client.post(f"{USERS}/{medic.id}/deactivate", headers=stack.admin.headers)
    assert (await stack.client.get(sessions, headers=stack.admin.headers)).json() == []
    problem(await stack.client.post(TOKEN, data=password(medic.username, TEST_PASSWORD)), 400)
    coordinator = await stack.actor("coordinator", await stack.organization())
    problem(await stack.client.post(reactivate, headers=coordinator.headers), 403)
    back = await stack.client.post(reactivate, headers=stack.admin.headers)
    assert back.status_code == 200
    assert back.json()["is_active"] is True
    await stack.login(medic.username)


async def test_people_change_their_own_contacts_and_language(stack: Stack) -> None:
    medic = await stack.actor("district_medic", await stack.organization())
    me = "/api/directory/me"
    changed = await stack.client.patch(
        me,
        json={"email": "me@hospital.example", "phone": "+7 (913) 765-43-21", "language": "en"},
        headers=medic.headers,
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["phone"], changed.json()["language"]) == ("+79137654321", "en")
    cleared = await stack.client.patch(me, json={"phone": None}, headers=medic.headers)
    assert cleared.json()["phone"] is None
    assert cleared.json()["email"] == "me@hospital.example"
    for body in ({"role": "admin"}, {"language": None}, {"full_name": None}):
        problem(await stack.client.patch(me, json=body, headers=medic.headers), 422)
    account = await stack.client.get(f"{USERS}/{medic.id}/account", headers=medic.headers)
    problem(account, 403)  # another's account view is for administrators
