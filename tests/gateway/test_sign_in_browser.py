"""The sign-in and consent pages in real headless Chromium (Playwright driving Debian's
Chromium): a person signs in by keyboard, in English after the language switch, allows a
third-party application, and lands on its redirect URI, served here on loopback; every page
passes axe's accessibility checks and fits a phone's width."""

import asyncio
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, ViewportSize, async_playwright
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from tests.conftest import TEST_PASSWORD, Stack
from tests.gateway.oauth.conftest import pkce
from tests.servers import serve

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed")
PHONE: ViewportSize = {"width": 360, "height": 640}


@pytest.fixture
async def client_app() -> AsyncIterator[tuple[str, asyncio.Queue[dict[str, str]]]]:
    """The application's redirect URI: records what the gateway sent back."""
    received: asyncio.Queue[dict[str, str]] = asyncio.Queue()

    async def callback(request: Request) -> HTMLResponse:
        received.put_nowait(dict(request.query_params))
        return HTMLResponse('<!doctype html><html lang="en"><title>Back</title><h1>Back</h1>')

    async with serve(Starlette(routes=[Route("/auth/callback", callback)])) as url:
        yield f"{url}/auth/callback", received


async def accessible(page: Page) -> None:
    results = await Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    fits = await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert fits, "the page scrolls sideways at phone width"


async def test_a_person_signs_in_and_allows_an_application(
    stack: Stack, client_app: tuple[str, asyncio.Queue[dict[str, str]]]
) -> None:
    assert stack.admin is not None
    redirect_uri, received = client_app
    registered = await stack.client.post(
        "/api/directory/oauth-clients",
        json={"name": "Patient diary", "redirect_uris": [redirect_uri],
              "scopes": ["openid", "profile"]},
        headers=stack.admin.headers,
    )  # fmt: skip
    client: dict[str, Any] = registered.json()
    person = await stack.actor("district_medic", await stack.organization())
    verifier, challenge = pkce()
    state = secrets.token_urlsafe(8)
    params = {
        "response_type": "code", "client_id": client["client_id"], "redirect_uri": redirect_uri,
        "scope": "openid profile", "state": state, "nonce": "n-1",
        "code_challenge": challenge, "code_challenge_method": "S256",
    }  # fmt: skip
    async with serve(stack.apps["gateway"], lifespan="off") as gateway, async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            context = await browser.new_context(viewport=PHONE, locale="ru-RU", bypass_csp=True)
            page = await context.new_page()
            query = "&".join(f"{name}={value}" for name, value in params.items())
            await page.goto(f"{gateway}/oauth/authorize?{query}")
            assert await page.get_attribute("html", "lang") == "ru"
            await accessible(page)
            await page.get_by_role("link", name="English").click()
            assert await page.get_attribute("html", "lang") == "en"
            await accessible(page)
            # By keyboard: the username field has focus, Tab to the password, Enter sends.
            await page.keyboard.type(person.username)
            await page.keyboard.press("Tab")
            await page.keyboard.type(TEST_PASSWORD)
            await page.keyboard.press("Enter")
            await page.get_by_role("heading", name="Allow access").wait_for()
            await accessible(page)
            await page.get_by_role("button", name="Allow").click()
            back = await asyncio.wait_for(received.get(), timeout=20)
            await page.get_by_role("heading", name="Back").wait_for()
        finally:
            await browser.close()
    assert back["state"] == state
    tokens = await stack.client.post(
        "/api/auth/token",
        data={"grant_type": "authorization_code", "code": back["code"],
              "redirect_uri": redirect_uri, "code_verifier": verifier,
              "client_id": client["client_id"]},
    )  # fmt: skip
    assert tokens.status_code == 200, tokens.text
    assert "id_token" in tokens.json()
