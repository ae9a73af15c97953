"""What the console's tests share: the in-process stack with the console registered at the
gateway, and browsers (httpx clients with their own cookies) signed in through the gateway's
own sign-in page, as people are; for the browser modules, Debian's Chromium (one a module)."""

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser

from telemed.console import register_console
from tests.conftest import TEST_PASSWORD, Stack
from tests.web.browser import headless_chromium
from web.sessions import COOKIE

if TYPE_CHECKING:  # clinic.py imports this module
    from tests.web.clinic import Clinic

# The public address both the gateway and the console are configured with by default: pages
# redirect the browser there, so the test's browser reaches the in-process gateway by it.
PUBLIC = "http://127.0.0.1:8000"
CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')
ACTION = re.compile(r'<form method="post" action="([^"]*)"')


def csrf_of(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, page.text
    return html.unescape(found.group(1))


def local(location: str) -> str:
    """A redirect's target as a path on the public address (the browser's next request)."""
    parts = urlsplit(location)
    assert not parts.netloc or f"{parts.scheme}://{parts.netloc}" == PUBLIC, location
    return parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass
class Console:
    stack: Stack

    def browser(self, language: str = "en") -> httpx.AsyncClient:
        """A new browser, speaking `language` (its `Accept-Language`)."""
        return httpx.AsyncClient(
            transport=self.stack.transport,
            base_url=PUBLIC,
            headers={"Accept-Language": language},
        )

    async def sign_in(
        self,
        browser: httpx.AsyncClient,
        username: str,
        password: str = TEST_PASSWORD,
        next: str = "/",
    ) -> httpx.Response:
        """The console's sign-in: to the gateway's page, its form filled in, back through
        the console's callback; returns the callback's answer."""
        started = await browser.get("/auth/sign-in?" + urlencode({"next": next}))
        assert started.status_code == 303, started.text
        authorize = local(started.headers["location"])
        assert authorize.startswith("/oauth/authorize?"), authorize
        page = await browser.get(authorize)
        assert page.status_code == 200, page.text
        form = {
            "csrf_token": csrf_of(page),
            "step": "sign_in",
            "username": username,
            "password": password,
        }
        signed = await browser.post(authorize, data=form)
        assert signed.status_code == 303, signed.text
        callback = local(signed.headers["location"])
        assert callback.startswith("/auth/callback?"), callback
        return await browser.get(callback)

    async def page(self, browser: httpx.AsyncClient, path: str) -> httpx.Response:
        response = await browser.get(path)
        assert response.status_code == 200, response.text
        return response

    async def post(
        self, browser: httpx.AsyncClient, page: httpx.Response, action: str, **fields: Any
    ) -> httpx.Response:
        """Posts a form of `page` with the page's CSRF token."""
        return await browser.post(action, data={"csrf_token": csrf_of(page), **fields})


def session_cookie(browser: httpx.AsyncClient) -> str | None:
    return browser.cookies.get(COOKIE)


@pytest.fixture
async def console(stack: Stack) -> Console:
    gateway, web = stack.apps["gateway"], stack.apps["web"]
    await register_console(gateway.state.settings, web.state.settings)
    stack.transport.mount("127.0.0.1", gateway)
    return Console(stack)


@pytest.fixture
async def clinic(stack: Stack, console: Console) -> "Clinic":
    """The case screens' people and places (tests/web/clinic.py)."""
    from tests.web.clinic import Clinic

    return await Clinic.open(stack, console)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Started only by the modules that use it (the video module brings its own, with a fake
    camera and microphone)."""
    with headless_chromium() as browser:
        yield browser
