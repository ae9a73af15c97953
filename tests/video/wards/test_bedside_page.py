"""The bedside tablet's page: its headers through the gateway, and the page in Debian's Chromium
(Playwright, the fake camera and microphone) opened with the link the coordinator issues: it
keeps the credential and clears the address bar, publishes the bed's picture, sends the
microphone only while a doctor talks to the bed and says so, reconnects by itself after the
server drops it or its event stream ends, and says plainly when its credential is revoked."""

import base64
import hashlib
import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, async_playwright

from tests.video.peers import until
from tests.video.wards.conftest import WARDS, WardWorld, ward_world

CHROMIUM = Path("/usr/bin/chromium")
FAKE_MEDIA = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is needed")


@pytest.fixture
async def world(clean_databases: dict[str, str], tmp_path: Path) -> AsyncIterator[WardWorld]:
    """The server's default heartbeat timeout (6 s): the page pings every 2 s, as the API asks,
    which the tests' shorter timeout would cut too close."""
    async with ward_world(clean_databases, tmp_path, heartbeat_timeout=6.0) as ward:
        yield ward


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=FAKE_MEDIA
        )
        try:
            yield browser
        finally:
            await browser.close()


def csp(header: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


async def test_the_page_and_its_script_are_served_through_the_gateway_locked_down(
    world: WardWorld,
) -> None:
    http = world.video.http
    page = await http.get("/bedside")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = csp(page.headers["content-security-policy"])
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"  # the one script file; nothing inline runs
    assert policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    (style,) = re.findall(r"<style>(.*?)</style>", page.text, flags=re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert policy["style-src"] == f"'sha256-{digest}'"
    assert "unsafe" not in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-store"
    permissions = page.headers["permissions-policy"]
    assert "camera=(self)" in permissions
    assert "microphone=(self)" in permissions
    assert re.findall(r"<script[^>]*>", page.text) == ['<script src="/bedside/bedside.js">']

    script = await http.get("/bedside/bedside.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "/api/video/wards/" in script.text
    again = await http.get("/bedside/bedside.js", headers={"If-None-Match": script.headers["etag"]})
    assert again.status_code == 304
    assert (await http.get("/bedside/other.js")).status_code == 404


def advanced(world: WardWorld, bed_id: uuid.UUID, since: float) -> bool:
    last = world.wards.last_frame_at(bed_id)
    return last is not None and last > since


def microphone(world: WardWorld, bed_id: uuid.UUID) -> tuple[int, float | None]:
    """The microphone frames the server has received from the bed's tablet, and when the last."""
    session = world.wards.hub.sessions.get(bed_id)
    audio = session.publications.get("audio") if session is not None else None
    return (audio.frames, audio.last_frame_at) if audio is not None else (0, None)


def microphone_quiet(world: WardWorld, bed_id: uuid.UUID, seconds: float) -> bool:
    last = microphone(world, bed_id)[1]
    return last is None or time.monotonic() - last > seconds


async def shows(page: Page, expression: str, within: float = 20.0) -> None:
    """Polls a JavaScript expression in the page until it holds (through the DevTools protocol:
    the page's policy allows no `eval`, which Playwright's own waiting would need)."""

    async def holds() -> bool:
        return bool(await page.evaluate(expression))

    await until(holds, within=within)


async def state_is(page: Page, state: str, within: float = 20.0) -> None:
    await shows(page, f"document.body.dataset.state === {json.dumps(state)}", within)


async def test_the_tablet_publishes_talks_reconnects_and_stops_when_revoked(
    world: WardWorld, chromium: Browser
) -> None:
    icu = await world.ward({"label": "Bed 1", "patient_ref": "IB 2026/1142"})
    bed = icu["beds"][0]
    bed_id = uuid.UUID(bed["id"])
    issued = await world.client.post(
        f"{WARDS}/{icu['id']}/beds/{bed['id']}/device", headers=world.coordinator.headers
    )
    assert issued.status_code == 201, issued.text
    credential, link = issued.json()["credential"], issued.json()["bedside_url"]
    public, fragment = link.split("#", 1)
    assert public == "http://127.0.0.1:8000/bedside"  # the configured public address
    context = await chromium.new_context(locale="en-GB")
    page = await context.new_page()
    await page.goto(f"{world.video.url}/bedside#{fragment}")  # the gateway, where it is served

    # The bed's picture reaches the server, frame after frame, from the 640x480 camera.
    await until(lambda: world.wards.last_frame_at(bed_id) is not None, within=30)
    first = world.wards.last_frame_at(bed_id)
    assert first is not None
    await until(lambda: advanced(world, bed_id, first), within=5)
    await state_is(page, "live")
    assert await page.text_content("#status") == "Camera of this bed is on"
    preview = "document.getElementById('preview')"
    await shows(page, f"{preview}.videoWidth > 0")
    assert await page.evaluate(f"[{preview}.videoWidth, {preview}.videoHeight]") == [640, 480]
    results = await Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    # The secret left the address bar (and history) and stays in the tablet's storage.
    assert urlsplit(page.url).fragment == ""
    assert credential not in page.url
    kept = await page.evaluate("localStorage.getItem('telemed.bedside')")
    assert json.loads(kept) == {"ward": icu["id"], "bed": bed["id"], "key": credential}

    # Nothing of the microphone goes out until a doctor talks to the bed; then it does, and
    # the tablet says who is talking; when the doctor stops, the microphone stops too.
    doctor = await world.watcher(icu, tone=440)
    assert (await doctor.put("focus", {"bed_id": bed["id"]})).status_code == 200
    assert await page.is_hidden("#talk")
    assert microphone(world, bed_id)[0] == 0
    assert (await doctor.put("talk", {"talking": True})).status_code == 200
    await shows(page, "document.body.dataset.talking === 'yes'", within=10)
    assert await page.is_visible("#talk")
    assert await page.text_content("#talk") == "A doctor of the regional centre is talking"
    await until(lambda: microphone(world, bed_id)[0] > 10, within=10)
    assert (await doctor.put("talk", {"talking": False})).status_code == 200
    await shows(page, "document.body.dataset.talking === 'no'", within=10)
    assert await page.is_hidden("#talk")
    await until(lambda: microphone_quiet(world, bed_id, 1.0), within=10)

    # The server lets the tablet go (a restart, a lost link): it comes back by itself.
    dropped = world.wards.hub.sessions[bed_id]
    await world.wards.hub.disconnect(bed_id)
    cut = time.monotonic()
    await until(
        lambda: (
            (session := world.wards.hub.sessions.get(bed_id)) is not None
            and session is not dropped
            and advanced(world, bed_id, cut)
        ),
        within=20,
    )
    await state_is(page, "live")

    # Its event stream ends (the service going away ends them all): the page opens another.
    assert world.wards.events.listeners(bed_id) == 1
    world.wards.events.close_room(bed_id)
    await until(lambda: world.wards.events.listeners(bed_id) == 1, within=10)

    # A revoked credential: the tablet is disconnected, says so plainly and stays off.
    revoked = await world.client.delete(
        f"{WARDS}/{icu['id']}/beds/{bed['id']}/device", headers=world.coordinator.headers
    )
    assert revoked.status_code == 204
    await state_is(page, "revoked")
    assert await page.text_content("#status") == "This tablet's link is no longer valid"
    detail = await page.text_content("#detail")
    assert detail == "Ask the ward's coordinator for a new link for this bed."
    assert bed_id not in world.wards.hub.sessions
    assert await page.evaluate("document.getElementById('preview').srcObject") is None
    await context.close()

    # A tablet opened without its link (another browser profile, in Russian) says what to do.
    context = await chromium.new_context(locale="ru-RU")
    page = await context.new_page()
    await page.goto(f"{world.video.url}/bedside")
    await state_is(page, "noLink")
    assert await page.get_attribute("html", "lang") == "ru"
    assert await page.text_content("#status") == "Планшет не подключён к койке"
    await context.close()
