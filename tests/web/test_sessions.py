"""The console's sessions: the cookie's flags, CSRF on every form, the access token renewed on
the server, and a session the gateway ends ending here too."""

import asyncio
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from services.common.db import utcnow
from tests.conftest import Stack
from tests.web.conftest import Console, csrf_of, session_cookie
from web.models import BrowserSession
from web.sessions import COOKIE, SECURE_COOKIE, SessionStore
from web.settings import WebSettings


async def _row(stack: Stack, user_id: object) -> BrowserSession:
    async with stack.apps["web"].state.database.sessionmaker() as session:
        row = await session.scalar(select(BrowserSession).where(BrowserSession.user_id == user_id))
    assert isinstance(row, BrowserSession)
    return row


async def _expire_access(stack: Stack, row: BrowserSession) -> None:
    async with stack.apps["web"].state.database.sessionmaker() as session:
        await session.execute(
            update(BrowserSession)
            .where(BrowserSession.id == row.id)
            .values(access_expires_at=utcnow() + timedelta(seconds=5))
        )
        await session.commit()


async def test_the_cookie_is_http_only_same_site_lax_and_host_wide(console: Console) -> None:
    async with console.browser() as browser:
        started = await browser.get("/auth/sign-in")
    cookie = started.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=lax", "path=/"} <= attributes
    assert "secure" not in attributes  # http on loopback (`make run`)
    assert not any(part.startswith(("expires", "max-age", "domain")) for part in attributes)


@pytest.mark.parametrize(
    ("public_url", "secure"),
    [
        ("http://127.0.0.1:8000", False),
        ("http://localhost:8000", False),
        ("http://[::1]:8000", False),
        ("https://telemed.region.example", True),
        ("http://telemed.region.example", True),  # a browser then refuses it: that is meant
        ("http://10.20.30.40", True),
    ],
)
def test_the_cookie_is_secure_except_over_http_on_loopback(public_url: str, secure: bool) -> None:
    settings = WebSettings(public_url=public_url)
    assert settings.secure_cookies() is secure
    store = SessionStore(None, settings, None)  # type: ignore[arg-type]  # names only
    assert store.cookie == (SECURE_COOKIE if secure else COOKIE)


async def test_a_form_without_its_csrf_token_is_refused(stack: Stack, console: Console) -> None:
    medic = await stack.actor("district_medic", await stack.organization())
    other = await stack.actor("district_medic", await stack.organization())
    async with console.browser() as browser, console.browser() as stranger:
        await console.sign_in(browser, medic.username)
        await console.sign_in(stranger, other.username)
        page = await console.page(browser, "/profile")
        foreign = csrf_of(await console.page(stranger, "/profile"))
        for form in (
            {},
            {"csrf_token": ""},
            {"csrf_token": "forged"},
            {"csrf_token": foreign},  # another session's
        ):
            for action in ("/profile/details", "/profile/password", "/language", "/auth/sign-out"):
                refused = await browser.post(action, data={**form, "language": "en"})
                assert refused.status_code == 403, (action, form)
                assert refused.headers["content-type"].startswith("text/html")
                assert 'class="skip-link"' in refused.text
        # Nothing changed: the page's own token still works, and the session is there.
        switched = await console.post(browser, page, "/language", language="en", next="/")
        assert switched.status_code == 303
        assert session_cookie(browser)


async def test_the_access_token_is_renewed_before_it_runs_out(
    stack: Stack, console: Console
) -> None:
    medic = await stack.actor("district_medic", await stack.organization())
    async with console.browser() as browser:
        await console.sign_in(browser, medic.username)
        before = await _row(stack, medic.id)
        await _expire_access(stack, before)
        await console.page(browser, "/profile")
    after = await _row(stack, medic.id)
    assert after.access_token != before.access_token
    assert after.refresh_token != before.refresh_token  # rotated by the gateway
    assert after.access_expires_at
    assert after.access_expires_at > utcnow() + timedelta(minutes=5)


async def test_concurrent_pages_renew_once_and_the_sign_in_survives(
    stack: Stack, console: Console
) -> None:
    """A refresh token spent twice ends the whole sign-in at the gateway: the row lock makes
    the second request find the first one's tokens instead."""
    medic = await stack.actor("district_medic", await stack.organization())
    async with console.browser() as browser:
        await console.sign_in(browser, medic.username)
        await _expire_access(stack, await _row(stack, medic.id))
        pages = await asyncio.gather(*(browser.get("/profile") for _ in range(4)))
        assert [page.status_code for page in pages] == [200] * 4
        await _expire_access(stack, await _row(stack, medic.id))
        assert (await browser.get("/profile")).status_code == 200


async def test_a_refused_renewal_signs_the_browser_out_cleanly(
    stack: Stack, console: Console
) -> None:
    medic = await stack.actor("district_medic", await stack.organization())
    async with console.browser() as browser:
        await console.sign_in(browser, medic.username)
        row = await _row(stack, medic.id)
        refresh = stack.apps["web"].state.sessions.refresh_token(row)
        revoked = await stack.client.post("/api/auth/revoke", data={
            "token": refresh, "client_id": "telemed-console",
            "client_secret": stack.apps["web"].state.settings.client_secret(),
        })  # fmt: skip
        assert revoked.status_code == 200, revoked.text
        await _expire_access(stack, row)
        ended = await browser.get("/profile")
        assert ended.status_code == 303
        assert ended.headers["location"] == "/auth/signed-out?reason=expired&state=ru"
        assert session_cookie(browser) is None
        said = await browser.get(ended.headers["location"])
        assert "Ваш сеанс завершён" in said.text
        assert (await browser.get("/")).status_code == 303
    async with stack.apps["web"].state.database.sessionmaker() as session:
        assert await session.get(BrowserSession, row.id) is None


async def test_a_session_ended_at_the_gateway_ends_at_its_next_api_call(
    stack: Stack, console: Console
) -> None:
    medic = await stack.actor("district_medic", await stack.organization())
    async with console.browser() as browser, console.browser() as laptop:
        await console.sign_in(browser, medic.username)
        await console.sign_in(laptop, medic.username)
        sessions = (await stack.client.get("/api/auth/sessions", headers=medic.headers)).json()
        for each in sessions:
            await stack.client.delete(f"/api/auth/sessions/{each['id']}", headers=medic.headers)

        async def refused() -> httpx.Response:
            while True:  # until the gateway's deny-list (refreshed every 2 s) has the sign-in
                answer = await browser.get("/profile")
                if answer.status_code != 200:
                    return answer
                await asyncio.sleep(0.2)

        ended = await asyncio.wait_for(refused(), 15)
        assert ended.status_code == 303
        assert ended.headers["location"].startswith("/auth/signed-out?reason=expired")


async def test_ended_sessions_are_pruned(stack: Stack, console: Console) -> None:
    async with console.browser() as browser:
        await browser.get("/auth/sign-in")
    store: SessionStore = stack.apps["web"].state.sessions
    async with stack.apps["web"].state.database.sessionmaker() as session:
        await session.execute(update(BrowserSession).values(expires_at=utcnow()))
        await session.commit()
    assert await store.prune() == 1
    assert await store.prune() == 0
