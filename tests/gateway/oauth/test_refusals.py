"""What the authorization and token endpoints refuse, and how: a page that never redirects,
an error back at the client, or an `invalid_grant` that leaves nothing usable behind."""

import base64
import re
import time
from datetime import datetime, timedelta
from math import ceil

from sqlalchemy import update

from gateway.models import User
from gateway.oauth.models import AuthorizationCode
from services.common.db import utcnow
from tests.conftest import Stack
from tests.gateway.oauth.conftest import Ask, SignInWorld, pkce, query
from tests.gateway.test_revocation import refused_after


async def test_an_unregistered_redirect_uri_or_client_is_a_page_never_a_redirect(
    world: SignInWorld,
) -> None:
    client = await world.client(first_party=True)
    browser = world.browser()
    for ask, reason in (
        (
            Ask(client["client_id"], redirect_uri="https://evil.example/cb"),
            "unregistered_redirect_uri",
        ),
        (Ask("tmo_nobody"), "unknown_client"),
    ):
        page = await browser.open("/oauth/authorize", params=ask.params())
        assert page.status_code == 400
        assert "location" not in page.headers
        assert f'data-reason="{reason}"' in page.text


async def test_other_errors_go_back_to_the_client(world: SignInWorld) -> None:
    client = await world.client(first_party=True)
    browser = world.browser()
    verifier, _challenge = pkce()
    for extra, error in (
        ({"code_challenge": verifier, "code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": ""}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "openid consult:write"}, "invalid_scope"),
        ({"prompt": "none"}, "login_required"),
    ):
        ask = Ask(client["client_id"], extra=extra)
        answer = await browser.open("/oauth/authorize", params=ask.params())
        assert answer.status_code == 303, (extra, answer.text)
        back = query(answer.headers["location"])
        assert back["error"] == error, extra
        assert back["state"] == ask.state
        assert back["iss"]


async def test_a_wrong_verifier_spends_the_code(world: SignInWorld) -> None:
    client = await world.client(first_party=True)
    person = await world.person()
    ask = Ask(client["client_id"])
    code = await world.code(world.browser(), ask, person)
    wrong = await world.exchange(ask, code, code_verifier=pkce()[0])
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    late = await world.exchange(ask, code)
    assert late.status_code == 400
    assert late.json()["error"] == "invalid_grant"


async def test_a_reused_code_ends_what_it_issued(world: SignInWorld) -> None:
    client = await world.client(first_party=True)
    person = await world.person()
    ask = Ask(client["client_id"])
    code = await world.code(world.browser(), ask, person)
    first = await world.exchange(ask, code)
    assert first.status_code == 200
    second = await world.exchange(ask, code)
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"
    refresh = await world.stack.client.post(
        "/api/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"],
              "client_id": ask.client_id},
    )  # fmt: skip
    assert refresh.status_code == 400


async def test_an_expired_code_or_another_redirect_uri_is_refused(world: SignInWorld) -> None:
    client = await world.client(first_party=True, redirect_uris=[
        "http://127.0.0.1:8005/auth/callback", "http://127.0.0.1:8005/other"
    ])  # fmt: skip
    person = await world.person()
    browser = world.browser()
    ask = Ask(client["client_id"])
    expired = await world.code(browser, ask, person)
    database = world.stack.apps["gateway"].state.database
    async with database.sessionmaker() as session:
        await session.execute(
            update(AuthorizationCode).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()
    answer = await world.exchange(ask, expired)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"
    # Signed in at the gateway: the next code comes at once.
    fresh = query((await browser.open("/oauth/authorize", params=ask.params())).headers["location"])
    moved = await world.exchange(ask, fresh["code"], redirect_uri="http://127.0.0.1:8005/other")
    assert moved.status_code == 400
    assert moved.json()["error"] == "invalid_grant"


async def test_a_form_without_its_csrf_token_signs_nobody_in(world: SignInWorld) -> None:
    client = await world.client(first_party=True)
    person = await world.person()
    browser = world.browser()
    ask = Ask(client["client_id"])
    await browser.open("/oauth/authorize", params=ask.params())
    forged = await browser.http.post(
        "/oauth/authorize",
        params=ask.params(),
        data={"step": "sign_in", "username": person.username, "password": "x"},
    )
    assert forged.status_code == 400
    assert "location" not in forged.headers
    assert "telemed_signin" not in forged.headers.get("set-cookie", "")
    # Another browser's token is no good either.
    other = world.browser()
    page = await other.open("/oauth/authorize", params=ask.params())
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    stolen = await browser.http.post(
        "/oauth/authorize",
        params=ask.params(),
        data={"step": "sign_in", "csrf_token": token, "username": person.username,
              "password": "x"},
    )  # fmt: skip
    assert stolen.status_code == 400
    assert "location" not in stolen.headers


async def test_failed_sign_ins_are_throttled_on_the_page(world: SignInWorld) -> None:
    client = await world.client(first_party=True)
    person = await world.person()
    browser = world.browser()
    ask = Ask(client["client_id"])
    limit = world.stack.apps["gateway"].state.settings.login_max_failures
    for _ in range(limit):
        wrong = await world.sign_in(browser, ask, person, password="wrong password")
        assert wrong.status_code == 400
        assert 'role="alert"' in wrong.text
    before = utcnow()
    throttled = await world.sign_in(browser, ask, person)
    assert throttled.status_code == 429
    wait = int(throttled.headers["retry-after"])
    assert wait > 0
    # The page says when, in its language: how long, and the moment in UTC as a <time>.
    moment = re.search(r'<time datetime="([^"]+)">(\d\d:\d\d(?::\d\d)?) UTC</time>', throttled.text)
    assert moment, throttled.text
    lifts = datetime.fromisoformat(moment.group(1))
    assert before + timedelta(seconds=wait - 1) <= lifts <= utcnow() + timedelta(seconds=wait)
    unit = "мин." if wait >= 60 else "сек."
    assert "Войти снова можно через" in throttled.text
    assert f"{ceil(wait / 60) if wait >= 60 else wait} {unit}" in throttled.text
    english = await world.sign_in(browser, Ask(client["client_id"], extra={"lang": "en"}), person)
    assert english.status_code == 429
    assert "You can sign in again in" in english.text
    assert re.search(r'at <time datetime="[^"]+">[\d:]+ UTC</time>\.', english.text)
    # The owner elsewhere is not locked out.
    elsewhere = await world.sign_in(world.browser(), ask, person)
    assert elsewhere.status_code == 303


async def test_a_confidential_clients_secret_is_checked(world: SignInWorld) -> None:
    client = await world.client(confidential=True, first_party=True)
    person = await world.person()
    ask = Ask(client["client_id"])
    code = await world.code(world.browser(), ask, person)
    missing = await world.exchange(ask, code)
    assert missing.status_code == 401
    assert missing.json()["error"] == "invalid_client"
    wrong = await world.exchange(ask, code, client_secret="guess")
    assert wrong.status_code == 401
    right = await world.exchange(ask, code, client_secret=client["client_secret"])
    assert right.status_code == 200, right.text


def every_byte_encoded(value: str) -> str:
    return "".join(f"%{byte:02X}" for byte in value.encode())


async def test_basic_credentials_are_form_urlencoded(world: SignInWorld) -> None:
    """RFC 6749 2.3.1: id and secret are form-urlencoded before Base64, so the gateway decodes
    them; telemed's own, of unreserved characters, decode to themselves (sent as they are in
    the other tests)."""
    client = await world.client(confidential=True, first_party=True)
    ask = Ask(client["client_id"])
    code = await world.code(world.browser(), ask, await world.person())
    encoded = [every_byte_encoded(client[name]) for name in ("client_id", "client_secret")]
    basic = base64.b64encode(":".join(encoded).encode()).decode()
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": ask.redirect_uri,
            "code_verifier": ask.verifier}  # fmt: skip
    answer = await world.stack.client.post(
        "/api/auth/token", data=form, headers={"Authorization": f"Basic {basic}"}
    )
    assert answer.status_code == 200, answer.text
    not_utf8 = base64.b64encode(f"{client['client_id']}:%FF".encode()).decode()
    malformed = await world.stack.client.post(
        "/api/auth/introspect",
        data={"token": answer.json()["access_token"]},
        headers={"Authorization": f"Basic {not_utf8}"},
    )
    assert malformed.status_code == 401
    assert malformed.json()["error"] == "invalid_client"


async def test_administrators_manage_oauth_clients(world: SignInWorld, stack: Stack) -> None:
    assert stack.admin is not None
    person = await world.person()
    refused = await stack.client.post(
        "/api/directory/oauth-clients",
        json={"name": "Mine", "redirect_uris": ["https://a.example/cb"]},
        headers=person.headers,
    )
    assert refused.status_code == 403
    bad = await stack.client.post(
        "/api/directory/oauth-clients",
        json={"name": "Bad", "redirect_uris": ["http://a.example/cb"]},
        headers=stack.admin.headers,
    )
    assert bad.status_code == 422
    client = await world.client(first_party=True)
    listed = await stack.client.get("/api/directory/oauth-clients", headers=stack.admin.headers)
    assert [c["client_id"] for c in listed.json()] == [client["client_id"]]
    assert "client_secret" not in listed.json()[0]
    changed = await stack.client.put(
        f"/api/directory/oauth-clients/{client['id']}",
        json={
            "name": "Console",
            "redirect_uris": ["ru.telemed.app:/callback"],
            "scopes": ["openid"],
            "first_party": True,
        },
        headers=stack.admin.headers,
    )
    assert changed.status_code == 200
    assert changed.json()["redirect_uris"] == ["ru.telemed.app:/callback"]
    ask = Ask(client["client_id"], redirect_uri="ru.telemed.app:/callback", scope="openid")
    code = await world.code(world.browser(), ask, person)
    tokens = (await world.exchange(ask, code)).json()
    revoked = await stack.client.post(
        f"/api/directory/oauth-clients/{client['id']}/revoke", headers=stack.admin.headers
    )
    assert revoked.status_code == 200
    assert revoked.json()["is_active"] is False
    page = await world.browser().open("/oauth/authorize", params=ask.params())
    assert page.status_code == 400
    assert 'data-reason="unknown_client"' in page.text
    # Its sign-ins end: refused through the gateway and by the services themselves.
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    await refused_after(stack, bearer, time.monotonic())


async def test_a_new_password_or_deactivation_ends_the_browsers_sign_in(
    world: SignInWorld, stack: Stack
) -> None:
    assert stack.admin is not None
    client = await world.client(first_party=True)
    person = await world.person()
    browser = world.browser()
    ask = Ask(client["client_id"])
    await world.code(browser, ask, person)
    signed_in = await browser.open("/oauth/authorize", params=ask.params())
    assert signed_in.status_code == 303  # no page: the browser is signed in
    database = stack.apps["gateway"].state.database
    async with database.sessionmaker() as session:
        await session.execute(
            update(User).where(User.id == person.id).values(password_hash="$argon2id$changed")
        )
        await session.commit()
    asked = await browser.open("/oauth/authorize", params=ask.params())
    assert asked.status_code == 200
    assert 'name="password"' in asked.text

    other = await world.person()
    await world.code(browser, ask, other)
    deactivated = await stack.client.post(
        f"/api/directory/users/{other.id}/deactivate", headers=stack.admin.headers
    )
    assert deactivated.status_code == 200, deactivated.text
    asked = await browser.open("/oauth/authorize", params=ask.params())
    assert asked.status_code == 200
    assert 'name="password"' in asked.text
