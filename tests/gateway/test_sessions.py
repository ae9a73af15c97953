"""Sign-ins as people see them: signing out, listing and ending one's sign-ins, an
administrator's view, and the message a sign-in from somewhere new sends."""

import time
import uuid
from datetime import timedelta

import httpx
from sqlalchemy import select, update

from gateway.accounts.models import SignIn
from gateway.notify.enums import Template
from services.common.db import utcnow
from tests.conftest import TEST_PASSWORD, Stack
from tests.gateway.accounts import USERS, api_client_tokens, bearer, messages
from tests.gateway.test_revocation import accepted_everywhere, refused_after
from tests.gateway.test_signin import from_address, password

TOKEN = "/api/auth/token"
SIGN_OUT = "/api/auth/sign-out"
SESSIONS = "/api/auth/sessions"


async def sign_in(client: httpx.AsyncClient, username: str, agent: str) -> dict[str, str]:
    response = await client.post(
        TOKEN, data=password(username, TEST_PASSWORD), headers={"User-Agent": agent}
    )
    assert response.status_code == 200, response.text
    tokens: dict[str, str] = response.json()
    return tokens


async def test_signing_out_ends_this_sign_in_everywhere(stack: Stack) -> None:
    medic = await stack.actor("district_medic", await stack.organization())
    other = await stack.login(medic.username)
    await accepted_everywhere(stack, medic.headers)
    started = time.monotonic()
    out = await stack.client.post(SIGN_OUT, headers=medic.headers)
    assert out.status_code == 204
    await refused_after(stack, medic.headers, started)
    renewal = {"grant_type": "refresh_token", "refresh_token": medic.refresh_token}
    refused = await stack.client.post(TOKEN, data=renewal)
    assert refused.json()["error"] == "invalid_grant"
    await accepted_everywhere(stack, bearer(other))


async def test_signing_out_with_the_refresh_token_of_an_older_token(stack: Stack) -> None:
    """A client whose access token has no sign-in id names its sign-in by the refresh token;
    someone else's refresh token ends nothing."""
    hospital = await stack.organization()
    medic = await stack.actor("district_medic", hospital)
    colleague = await stack.actor("district_medic", hospital)
    other = await stack.login(medic.username)
    out = await stack.client.post(
        SIGN_OUT,
        data={"refresh_token": str(other["refresh_token"])},
        headers=medic.headers,
    )
    assert out.status_code == 204
    for tokens in (other, {"refresh_token": medic.refresh_token}):
        renewal = {"grant_type": "refresh_token", "refresh_token": str(tokens["refresh_token"])}
        assert (await stack.client.post(TOKEN, data=renewal)).status_code == 400
    theirs = await stack.client.post(
        SIGN_OUT, data={"refresh_token": str(colleague.refresh_token)}, headers=bearer(other)
    )
    assert theirs.status_code == 204  # the caller's own (already ended) sign-in; not theirs
    renewal = {"grant_type": "refresh_token", "refresh_token": str(colleague.refresh_token)}
    assert (await stack.client.post(TOKEN, data=renewal)).status_code == 200


async def test_api_clients_have_no_sign_in_to_end(stack: Stack) -> None:
    out = await stack.client.post(SIGN_OUT, headers=bearer(await api_client_tokens(stack)))
    assert out.status_code == 400
    assert out.headers["content-type"] == "application/problem+json"


async def test_people_list_and_end_their_own_sign_ins(stack: Stack) -> None:
    hospital = await stack.organization()
    medic = await stack.actor("district_medic", hospital)
    colleague = await stack.actor("district_medic", hospital)
    async with from_address(stack, "203.0.113.20") as phone:
        on_phone = await sign_in(phone, medic.username, "Mobile Firefox")
    listed = await stack.client.get(SESSIONS, headers=bearer(on_phone))
    assert listed.status_code == 200
    rows = listed.json()
    assert len(rows) == 2
    assert rows[0]["current"] is True  # the latest used first
    assert (rows[0]["address"], rows[0]["user_agent"]) == ("203.0.113.20", "Mobile Firefox")
    assert rows[1]["current"] is False
    assert {row["client_name"] for row in rows} == {None}
    # Renewing a sign-in moves it to the top.
    renewal = {"grant_type": "refresh_token", "refresh_token": medic.refresh_token}
    renewed = (await stack.client.post(TOKEN, data=renewal)).json()
    again = (await stack.client.get(SESSIONS, headers=bearer(on_phone))).json()
    assert [row["id"] for row in again] == [rows[1]["id"], rows[0]["id"]]
    # Ending another one of one's own; someone else's or an unknown one is a 404.
    started = time.monotonic()
    ended = await stack.client.delete(f"{SESSIONS}/{rows[1]['id']}", headers=bearer(on_phone))
    assert ended.status_code == 204
    await refused_after(stack, bearer(renewed), started)
    for sign_in_id in (rows[1]["id"], uuid.uuid4()):
        gone = await stack.client.delete(f"{SESSIONS}/{sign_in_id}", headers=bearer(on_phone))
        assert gone.status_code == 404
    theirs = await stack.client.delete(f"{SESSIONS}/{rows[0]['id']}", headers=colleague.headers)
    assert theirs.status_code == 404
    await accepted_everywhere(stack, bearer(on_phone))
    assert len((await stack.client.get(SESSIONS, headers=bearer(on_phone))).json()) == 1


async def test_administrators_see_a_users_sign_ins(stack: Stack) -> None:
    assert stack.admin is not None
    hospital = await stack.organization()
    medic = await stack.actor("district_medic", hospital)
    coordinator = await stack.actor("coordinator", hospital)
    url = f"{USERS}/{medic.id}/sessions"
    listed = await stack.client.get(url, headers=stack.admin.headers)
    assert listed.status_code == 200
    assert [row["current"] for row in listed.json()] == [False]
    assert (await stack.client.get(url, headers=coordinator.headers)).status_code == 403
    unknown = f"{USERS}/{uuid.uuid4()}/sessions"
    assert (await stack.client.get(unknown, headers=stack.admin.headers)).status_code == 404


async def test_a_sign_in_from_somewhere_new_is_announced(stack: Stack) -> None:
    """Not the first sign-in (its owner just chose the password), nor one from an address and
    browser seen before; a new address or a new browser is."""
    medic = await stack.actor("district_medic", await stack.organization(timezone="Asia/Omsk"))
    await stack.login(medic.username)  # the same address and browser as the first
    assert await messages(stack, Template.ACCOUNT_NEW_SIGN_IN) == []
    async with from_address(stack, "198.51.100.44") as elsewhere:
        await sign_in(elsewhere, medic.username, "Chromium 131 on Linux")
        await sign_in(elsewhere, medic.username, "Chromium 131 on Linux")
        await sign_in(elsewhere, medic.username, "Firefox 133")
    sent = await messages(stack, Template.ACCOUNT_NEW_SIGN_IN)
    assert [message.params["client"] for message in sent] == [
        "Chromium 131 on Linux",
        "Firefox 133",
    ]
    params = sent[0].params
    assert sent[0].recipient_id == medic.id
    assert (params["address"], params["timezone"]) == ("198.51.100.44", "Asia/Omsk")
    assert params["at"].endswith("+00:00")
    # Someone with no organisation is told the time in UTC.
    admin = await stack.actor("admin")
    async with from_address(stack, "198.51.100.45") as elsewhere:
        await sign_in(elsewhere, admin.username, "Safari")
    (announced,) = [m for m in await messages(stack, Template.ACCOUNT_NEW_SIGN_IN)
                    if m.recipient_id == admin.id]  # fmt: skip
    assert announced.params["timezone"] == "UTC"


async def test_old_sign_ins_are_pruned_but_a_dormant_account_is_still_announced(
    stack: Stack,
) -> None:
    medic = await stack.actor("district_medic", await stack.organization())
    long_ago = utcnow() - timedelta(days=200)
    database = stack.apps["gateway"].state.database
    async with database.sessionmaker() as session:
        await session.execute(update(SignIn).values(created_at=long_ago, last_used_at=long_ago))
        await session.commit()
    await stack.login(medic.username)  # the same address and browser, but 200 days later
    (announced,) = await messages(stack, Template.ACCOUNT_NEW_SIGN_IN)
    assert announced.recipient_id == medic.id
    async with database.sessionmaker() as session:
        kept = (await session.scalars(select(SignIn).where(SignIn.user_id == medic.id))).all()
    assert [row.created_at > long_ago for row in kept] == [True]
