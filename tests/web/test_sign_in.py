"""Signing in to the console through the gateway's authorization code flow, and out again."""

import base64
import hashlib
import html
import re
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from tests.conftest import Stack
from tests.web.conftest import ACTION, Console, local, session_cookie
from web.models import BrowserSession

HIDDEN = re.compile(r'<input type="hidden" name="([^"]*)" value="([^"]*)">')
SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


async def test_a_person_signs_in_and_lands_on_the_page_they_asked_for(
    stack: Stack, console: Console
) -> None:
    medic = await stack.actor("district_medic", await stack.organization())
    async with console.browser() as browser:
        first = await browser.get("/profile")
        assert first.status_code == 303
        assert first.headers["location"] == "/auth/sign-in?next=%2Fprofile"
        done = await console.sign_in(browser, medic.username, next="/profile")
        assert done.status_code == 303
        assert done.headers["location"] == "/profile"
        page = await console.page(browser, "/profile")
    assert medic.username in page.text
    # In the person's own language (the directory's default, Russian), whatever the browser's.
    assert '<html lang="ru">' in page.text
    assert "Ваша учётная запись" in page.text


async def test_the_authorization_request_uses_pkce_state_and_nonce(
    stack: Stack, console: Console
) -> None:
    async with console.browser() as browser:
        started = await browser.get("/auth/sign-in")
    query = {k: v[0] for k, v in parse_qs(urlsplit(started.headers["location"]).query).items()}
    assert query["response_type"] == "code"
    assert query["client_id"] == "telemed-console"
    assert query["redirect_uri"] == "http://127.0.0.1:8000/auth/callback"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 43
    assert len(query["nonce"]) >= 43
    assert set(query["scope"].split()) == {"openid", "profile", "offline_access"}


async def test_the_session_is_a_new_one_after_sign_in(stack: Stack, console: Console) -> None:
    """Nothing known before sign-in (the cookie, the CSRF secret) works after it."""
    medic = await stack.actor("district_medic", await stack.organization())
    async with console.browser() as browser:
        await browser.get("/auth/sign-in")
        before = session_cookie(browser)
        await console.sign_in(browser, medic.username)
        after = session_cookie(browser)
    assert before
    assert after
    assert before != after
    web = stack.apps["web"]
    async with web.state.database.sessionmaker() as session:
        rows = (await session.scalars(select(BrowserSession))).all()
    signed = [row for row in rows if row.user_id == medic.id]
    assert len(signed) == 1
    (row,) = signed
    assert row.oauth_state is None
    assert row.code_verifier is None
    # Tokens are stored sealed, never as they are.
    assert row.access_token
    assert not row.access_token.startswith("ey")
    assert row.refresh_token
    assert medic.access_token not in row.refresh_token


async def test_a_callback_with_another_state_is_refused(stack: Stack, console: Console) -> None:
    async with console.browser() as browser:
        started = await browser.get("/auth/sign-in")
        location = local(started.headers["location"])
        assert location.startswith("/oauth/authorize")
        refused = await browser.get("/auth/callback?code=whatever&state=forged")
        no_session = await console.browser().__aenter__()
        alone = await no_session.get("/auth/callback?code=whatever&state=forged")
        await no_session.aclose()
    assert refused.status_code == 400
    assert "You are not signed in" in refused.text
    assert alone.status_code == 400


async def test_signing_out_revokes_at_the_gateway_and_forgets_the_session(
    stack: Stack, console: Console
) -> None:
    medic = await stack.actor("district_medic", await stack.organization())
    async with console.browser() as browser:
        await console.sign_in(browser, medic.username)
        home = await console.page(browser, "/")
        web = stack.apps["web"]
        async with web.state.database.sessionmaker() as session:
            row = await session.scalar(
                select(BrowserSession).where(BrowserSession.user_id == medic.id)
            )
        assert row is not None
        refresh = web.state.sessions.refresh_token(row)
        out = await console.post(browser, home, "/auth/sign-out")
        # A page whose form goes to the gateway, whose own sign-in ends too: by POST, so the
        # ID token is in no URL.
        assert out.status_code == 200, out.text
        assert "location" not in out.headers
        action = ACTION.search(out.text)
        assert action
        assert html.unescape(action.group(1)) == "http://127.0.0.1:8000/oauth/logout"
        fields = {name: html.unescape(value) for name, value in HIDDEN.findall(out.text)}
        assert fields == {
            "client_id": "telemed-console",
            "post_logout_redirect_uri": "http://127.0.0.1:8000/auth/signed-out",
            "state": "ru",
            "ui_locales": "ru",
            "id_token_hint": web.state.sessions.id_token(row),
        }
        assert "Продолжить выход" in out.text  # the button, for a browser without JavaScript
        assert 'action="/auth/sign-out"' not in out.text  # nobody's page now: no sign-out
        # The one inline script is allowed by its hash; nothing else inline would run.
        (script,) = SCRIPT.findall(out.text)
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        policy = out.headers["content-security-policy"]
        assert f"script-src 'self' 'sha256-{digest}';" in policy
        assert "unsafe-inline" not in policy
        assert "form-action 'self' http://127.0.0.1:8000;" in policy
        assert out.headers["cache-control"] == "no-store"
        assert session_cookie(browser) is None
        again = await browser.get("/")
        assert again.status_code == 303
        # With the sign-in's ID token as the hint, the gateway asks nothing: back at once.
        ended = await browser.post(local(action.group(1)), data=fields)
        assert ended.status_code == 303, ended.text
        # `state` carries the session's language: the person's own (Russian), not the browser's.
        assert ended.headers["location"] == "http://127.0.0.1:8000/auth/signed-out?state=ru"
        bye = await console.page(browser, local(ended.headers["location"]))
        assert '<html lang="ru">' in bye.text
        # Signed out at the gateway too: the next sign-in asks for the password again.
        started = await browser.get("/auth/sign-in")
        page = await browser.get(local(started.headers["location"]))
        assert page.status_code == 200
        assert 'name="password"' in page.text
    async with web.state.database.sessionmaker() as session:
        assert await session.get(BrowserSession, row.id) is None
    renewed = await stack.client.post(
        "/api/auth/token", data={"grant_type": "refresh_token", "refresh_token": refresh}
    )
    assert renewed.status_code in (400, 401)
