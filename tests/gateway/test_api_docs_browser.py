"""The API's documentation pages in real headless Chromium (Debian's, under the pages' own
content security policy): Swagger UI's "Authorize" signs a specialist in on the gateway's own
sign-in and consent pages (the authorization code flow with PKCE, as the public client
`telemed-api-docs`), after which "Try it out" calls the gateway and a service behind it with
their token; ReDoc renders the whole document. Neither page asks for anything beyond
loopback."""

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import (
    BrowserContext,
    ConsoleMessage,
    Page,
    Route,
    async_playwright,
    expect,
)

from gateway.models import kernel_tables
from gateway.oauth import clients
from gateway.oauth.enums import Scope
from gateway.oauth.schemas import OAuthClientCreate
from services.common.uow import standalone_unit_of_work
from telemed.samples import sample_case
from tests.conftest import TEST_PASSWORD, Actor, Stack, running_stack
from tests.servers import free_port, serve

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed")
LOOPBACK = frozenset({"127.0.0.1", "localhost", "[::1]"})
TIMEOUT = 20_000  # ms: the whole stack shares this test's one event loop


class Docs:
    """The stack, with its gateway served on loopback at the address its document publishes
    (Swagger UI calls the document's server)."""

    def __init__(self, stack: Stack, url: str) -> None:
        self.stack, self.url = stack, url
        self.outside: list[str] = []  # requests that tried to leave loopback

    async def keep_on_loopback(self, context: BrowserContext) -> None:
        """Refuses, and records, any request for another host; records too what the pages'
        policy stopped before it was even sent."""

        async def guard(route: Route) -> None:
            url = urlsplit(route.request.url)
            if url.scheme in ("http", "https") and url.hostname not in LOOPBACK:
                self.outside.append(route.request.url)
                await route.abort()
            else:
                await route.continue_()

        def blocked(message: ConsoleMessage) -> None:
            if "Content Security Policy" in message.text:
                self.outside.append(message.text)

        await context.route("**/*", guard)
        context.on("console", blocked)


@pytest.fixture
async def docs(clean_databases: dict[str, str], tmp_path: Path) -> AsyncIterator[Docs]:
    """The docs' client registered as `telemed admin create-oauth-client` does, with the
    redirect URI of the address the browser opens."""
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    async with running_stack(clean_databases, tmp_path, {"gateway": {"public_url": public}}) as (
        stack
    ):
        gateway = stack.apps["gateway"]
        body = OAuthClientCreate(
            name="API docs",
            redirect_uris=[f"{public}/docs/oauth2-redirect"],
            scopes=[Scope.OPENID, Scope.PROFILE],
        )
        client_id = gateway.state.settings.api_docs_client_id
        async with standalone_unit_of_work(gateway.state.database, kernel_tables.audit) as uow:
            await clients.register(uow, gateway.state.secret_hasher, body, client_id=client_id)
        async with serve(gateway, lifespan="off", port=port) as url:
            yield Docs(stack, url)


async def _execute(page: Page, tag: str, operation: str) -> tuple[str, str]:
    """Runs "Try it out" of one operation, found by filtering on its tag (Swagger UI renders
    only the operations in view); its status and body as the page shows them."""
    await page.locator(".operation-filter-input").fill(tag)
    block = page.locator(f"#operations-{tag}-{operation}")
    if not await block.locator(".try-out__btn").count():
        await block.locator(".opblock-summary").first.click()
    try_out = block.locator(".try-out__btn")
    if (await try_out.inner_text()).strip() == "Try it out":
        await try_out.click()
    await block.locator("button.execute").click()
    answer = block.locator(".live-responses-table tr.response")
    status = answer.locator(".response-col_status")
    await expect(status).to_have_text(re.compile(r"\d{3}"), timeout=TIMEOUT)
    text = (await status.inner_text()).strip()
    body = await answer.locator(".response-col_description").inner_text()
    await block.locator("button.btn-clear").click()
    return text, body


async def _authorize(page: Page, context: BrowserContext, person: Actor) -> list[str]:
    """Authorize → the authorization code flow → the gateway's sign-in and consent pages in the
    window Swagger UI opens, which closes itself once it hands the code back. Returns the
    scopes the dialog offered."""
    await page.locator(".auth-wrapper .authorize").click()
    flow = page.locator(".auth-container").filter(has_text="authorizationCode")
    await expect(flow.locator("input[type=text]").first).to_have_value("telemed-api-docs")
    offered = [
        value
        for box in await flow.locator("input[type=checkbox]").all()
        if (value := await box.get_attribute("data-value")) is not None
    ]
    async with context.expect_page() as opened:
        await flow.get_by_role("button", name="Apply given OAuth2 credentials").click()
    popup = await opened.value
    await popup.get_by_label("Username").fill(person.username)
    await popup.get_by_label("Password").fill(TEST_PASSWORD)
    await popup.get_by_role("button", name="Sign in").click()
    async with popup.expect_event("close", timeout=TIMEOUT):
        await popup.get_by_role("button", name="Allow").click()
    await expect(flow.get_by_role("button", name="Remove authorization")).to_be_visible(
        timeout=TIMEOUT
    )
    await page.locator(".modal-ux .close-modal").click()
    return offered


async def _case_for(stack: Stack, centre: dict[str, Any]) -> str:
    """A case submitted to the centre, so its specialists' queue lists it."""
    hospital = await stack.organization(kind="district_hospital")
    medic = await stack.actor("district_medic", hospital)
    created = await stack.client.post(
        "/api/consult/cases",
        json=sample_case(centre["id"], submit=True),
        headers=medic.headers,
    )
    assert created.status_code == 201, created.text
    case_id: str = created.json()["id"]
    return case_id


async def test_authorize_signs_in_and_try_it_out_calls_with_the_token(docs: Docs) -> None:
    stack = docs.stack
    centre = await stack.organization(kind="regional_centre")
    person = await stack.actor("specialist", centre, "cardiology")
    case_id = await _case_for(stack, centre)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            context = await browser.new_context(locale="en-GB")
            await docs.keep_on_loopback(context)
            page = await context.new_page()
            await page.goto(f"{docs.url}/docs")
            before, refusal = await _execute(page, "directory", "directory_me")
            offered = await _authorize(page, context, person)
            me, profile = await _execute(page, "directory", "directory_me")
            listed, queue = await _execute(page, "queue", "cases_list")
        finally:
            await browser.close()
    assert before == "401", refusal
    # The dialog offers only what a sign-in can grant (an API client's scope would be refused).
    assert sorted(offered) == sorted(scope.value for scope in Scope)
    assert me == "200", profile
    assert person.username in profile
    assert str(person.id) in profile
    assert listed == "200", queue  # through the proxy to consult, with the same token
    assert case_id in queue
    assert docs.outside == []


async def test_redoc_renders_the_document_offline(docs: Docs) -> None:
    document: dict[str, Any] = (await docs.stack.client.get("/openapi.json")).json()
    me = document["paths"]["/api/directory/me"]["get"]["summary"]
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            context = await browser.new_context(locale="en-GB")
            await docs.keep_on_loopback(context)
            page = await context.new_page()
            await page.goto(f"{docs.url}/docs/redoc")
            title = page.get_by_role("heading", name=document["info"]["title"])
            await expect(title.first).to_be_visible(timeout=TIMEOUT)
            await expect(page.get_by_text(me).first).to_be_attached(timeout=TIMEOUT)
        finally:
            await browser.close()
    assert docs.outside == []
