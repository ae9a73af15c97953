"""The patient's join page in real headless Chromium: waits, is admitted by an aiortc doctor,
and both sides receive video. Skipped where Chromium and its driver are not installed."""

import asyncio
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from services.video.enums import ParticipantRole
from tests.video.conftest import VideoWorld
from tests.video.peers import until

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="chromium is not installed")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
    "--disable-dev-shm-usage", "--window-size=800,900",
]  # fmt: skip
DOCTOR = (320, 240)
CAMERA = (640, 480)  # what the page asks Chromium's fake camera for


@contextmanager
def chromium(profile: Path) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in [*FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(str(DRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver: webdriver.Chrome, script: str, timeout: float = 20.0) -> object:
    """Polls a JavaScript expression in the page until it is truthy."""
    deadline = time.monotonic() + timeout
    while not (value := driver.execute_script(f"return {script}")):
        if time.monotonic() > deadline:
            raise AssertionError(f"{script} stayed false; page: {driver.page_source[:2000]}")
        time.sleep(0.1)
    return value


REMOTE_WIDTH = "[...document.querySelectorAll('video.remote')].map(v => v.videoWidth)"


async def test_patient_waits_is_admitted_and_sees_the_doctor(
    video: VideoWorld, tmp_path: Path
) -> None:
    room = await video.room()
    doctor = video.peer(room, await video.token(room), DOCTOR)
    patient_token = await video.patient_token(room, "Анна Иванова")
    await doctor.join()
    try:
        with chromium(tmp_path / "profile") as driver:
            await asyncio.to_thread(driver.get, f"{video.url}/join/{patient_token}")
            await asyncio.to_thread(wait_for, driver, "!document.getElementById('check').hidden")
            await asyncio.to_thread(lambda: driver.find_element(By.ID, "join").click())
            await asyncio.to_thread(wait_for, driver, "document.body.dataset.state === 'waiting'")
            view = await video.http.get(f"/api/video/rooms/{room['id']}", headers=doctor.headers)
            waiting = [p for p in view.json()["participants"] if p["state"] == "waiting"]
            assert [p["display_name"] for p in waiting] == ["Анна Иванова"]
            admit = await video.http.post(
                f"/api/video/rooms/{room['id']}/participants/{waiting[0]['id']}/admit",
                headers=doctor.headers,
            )
            assert admit.status_code == 200
            await asyncio.to_thread(wait_for, driver, "document.body.dataset.state === 'inCall'")
            # The doctor's 320-pixel frames decoded; a loaded machine (the whole suite on two
            # cores) takes longer than an idle one to get the first through.
            widths = await asyncio.to_thread(wait_for, driver, f"{REMOTE_WIDTH}.includes(320) "
                                             f"&& {REMOTE_WIDTH}", 45.0)  # fmt: skip
            assert widths
            await until(lambda: doctor.got(CAMERA), within=20)
            await asyncio.to_thread(driver.save_screenshot, str(tmp_path / "join-call.png"))
            assert (tmp_path / "join-call.png").stat().st_size > 0
    finally:
        await doctor.close()


async def test_expired_and_closed_links_say_so(video: VideoWorld, tmp_path: Path) -> None:
    room = await video.room()
    token = await video.patient_token(room)
    response = await video.http.get(f"/join/{token}")
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    await video.stack.client.post(
        f"/api/video/rooms/{room['id']}/close", headers=video.host.headers
    )
    expired, _ = video.live.tokens.issue(
        room["id"],
        "patient:x",
        "X",
        ParticipantRole.PATIENT,
        frozenset(),
        lifetime_seconds=-120,
    )
    with chromium(tmp_path / "profile") as driver:
        for link, state, text in (
            (token, "closed", "room is closed"),
            (expired, "expired", "expired"),
        ):
            await asyncio.to_thread(driver.get, f"{video.url}/join/{link}")
            await asyncio.to_thread(wait_for, driver, f"document.body.dataset.state === '{state}'")
            status = await asyncio.to_thread(lambda: driver.find_element(By.ID, "status").text)
            assert text in status
        # The same message in Russian, one tap away.
        await asyncio.to_thread(lambda: driver.find_element(By.ID, "lang").click())
        status = await asyncio.to_thread(lambda: driver.find_element(By.ID, "status").text)
        assert "истёк" in status


async def test_the_page_runs_only_its_own_script_and_cannot_be_framed(
    video: VideoWorld, tmp_path: Path
) -> None:
    """No inline script but the page's own runs (its hash is the only one allowed), the page
    is never framed, and only it may ask for the camera and microphone. A room title that
    looks like markup stays text."""
    title = '</script><script>document.body.dataset.injected = "yes"</script><b>Приём</b>'
    room = await video.room(title=title)
    token = await video.patient_token(room)
    response = await video.http.get(f"/join/{token}")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    policy = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert "'unsafe-inline'" not in csp
    assert policy["script-src"].startswith("'sha256-")
    assert policy["frame-ancestors"] == "'none'"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    permissions = response.headers["permissions-policy"]
    assert "camera=(self)" in permissions
    assert "microphone=(self)" in permissions
    assert "</script><script>" not in response.text
    with chromium(tmp_path / "profile") as driver:
        await asyncio.to_thread(driver.get, f"{video.url}/join/{token}")
        await asyncio.to_thread(wait_for, driver, "!document.getElementById('check').hidden")
        shown = await asyncio.to_thread(lambda: driver.find_element(By.ID, "title").text)
        assert shown == title
        injected = await asyncio.to_thread(
            driver.execute_script, "return document.body.dataset.injected || null"
        )
        assert injected is None
        # The page's own style applies under the policy, too.
        colour = await asyncio.to_thread(
            driver.execute_script,
            "return getComputedStyle(document.getElementById('join')).backgroundColor",
        )
        assert colour == "rgb(11, 92, 173)"
