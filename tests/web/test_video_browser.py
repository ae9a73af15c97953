"""The doctor's video page in Chromium against the real processes of `telemed run`, with
Chromium's fake camera and microphone: the cardiologist opens her video visits and the room of
a remote visit booked for the demo's patient; the patient joins through his link in a second
browser context and waits; the doctor hears of it (the page title counts him) and lets him in;
both see each other's video with frames decoded; mute is a pressed toggle; both leave. axe-core
on the visits list and the video page; no token in any URL the console's page asks for."""

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.browser import (
    CHROMIUM,
    TOKEN_IN_URL,
    System,
    assert_accessible,
    headless_chromium,
    running_console,
    sign_in,
)

DOCTOR, PATIENT = "cardiologist.kuzbass", "patient.petrov"
FAKE_MEDIA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
# A remote tile shows decoded video: a size, and a new frame painted (or time moving on).
DECODED = """async () => {
  const tiles = [...document.querySelectorAll("video.remote")].filter((v) => v.videoWidth > 0);
  if (!tiles.length) return false;
  const video = tiles[0], before = video.currentTime;
  const painted = await new Promise((done) => {
    video.requestVideoFrameCallback(() => done(true));
    setTimeout(() => done(false), 3000);
  });
  return painted && video.videoWidth > 0 && video.currentTime >= before;
}"""

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's Chromium is needed")


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    with running_console(tmp_path_factory.mktemp("video")) as running:
        yield running


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with headless_chromium(FAKE_MEDIA) as browser:
        yield browser


def api_token(http: httpx.Client, system: System, username: str) -> dict[str, str]:
    """The person's access token, signed in at the API as the demo's own story does."""
    form = {"grant_type": "password", "username": username, "password": system.password(username)}
    answer = http.post("/api/auth/token", data=form)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def remote_visit(system: System) -> tuple[str, str]:
    """A room for a remote visit of the demo's patient, hosted by the cardiologist, and the
    patient's join link to it, which the host issues (his organisation is not hers, so she
    cannot book him into the room itself)."""
    with httpx.Client(base_url=system.url, timeout=30) as http:
        doctor, patient = api_token(http, system, DOCTOR), api_token(http, system, PATIENT)
        patient_id = http.get("/api/directory/me", headers=patient).json()["id"]
        body = {"kind": "follow_up", "title": "Follow-up after the in-person visit",
                "starts_at": datetime.now(UTC).isoformat()}  # fmt: skip
        room = http.post("/api/video/rooms", json=body, headers=doctor)
        assert room.status_code == 201, room.text
        room_id = room.json()["id"]
        link = http.post(
            f"/api/video/rooms/{room_id}/patient-link",
            json={"patient_id": patient_id, "display_name": "Sergei Petrov"},
            headers=doctor,
        )
        assert link.status_code == 201, link.text
        join_url: str = link.json()["join_url"]
    return room_id, join_url


def sees_video(page: Page) -> None:
    page.wait_for_function(DECODED, timeout=30_000, polling=500)


def test_doctor_and_patient_see_each_other(chromium: Browser, system: System) -> None:
    room_id, join_url = remote_visit(system)
    urls: list[str] = []
    doctor_context = chromium.new_context(locale="ru-RU", base_url=system.url)
    doctor_context.on("request", lambda request: urls.append(request.url))
    doctor = doctor_context.new_page()
    doctor.set_viewport_size({"width": 360, "height": 800})
    doctor.goto("/visits")
    sign_in(doctor, system, DOCTOR)
    expect(doctor.locator("h1")).to_have_text("Видеоприёмы")  # her language is Russian
    expect(doctor.locator(f'a[href="/video/{room_id}"]')).to_be_visible()
    assert_accessible(doctor, "video visits")
    doctor.click(f'a[href="/video/{room_id}"]')
    expect(doctor.locator("#waiting-empty")).to_be_visible()
    call = doctor.locator("[data-video-call]")
    expect(call).to_have_attribute("data-state", "Ready")  # its script is running
    doctor.click("#join-call")
    expect(call).to_have_attribute("data-state", "InCall")
    assert_accessible(doctor, "video page")

    patient_context = chromium.new_context(locale="ru-RU")
    patient = patient_context.new_page()
    patient.goto(join_url)
    patient.click("#join")
    expect(patient.locator("body")).to_have_attribute("data-state", "waiting")

    waiting = doctor.locator("#waiting-list li")
    expect(waiting).to_contain_text("Sergei Petrov", timeout=15_000)
    expect(doctor).to_have_title(re.compile(r"^\(1\) Follow-up after the in-person visit"))
    waiting.get_by_role("button", name="Впустить: Sergei Petrov").click()
    expect(patient.locator("body")).to_have_attribute("data-state", "inCall", timeout=15_000)
    expect(doctor).to_have_title(re.compile(r"^Follow-up after the in-person visit"))

    sees_video(doctor)
    sees_video(patient)
    expect(doctor.locator(".remote-tile figcaption").first).to_contain_text("Sergei Petrov")

    mute = doctor.locator("#mute")
    expect(mute).to_have_attribute("aria-pressed", "false")
    mute.click()
    expect(mute).to_have_attribute("aria-pressed", "true")
    doctor.click("#leave")
    expect(call).to_have_attribute("data-state", "Left")
    patient.click("#leave")
    expect(patient.locator("body")).to_have_attribute("data-state", "left")

    leaked = [url for url in urls if TOKEN_IN_URL.search(url)]
    assert not leaked, leaked
    assert any(url.endswith("/join/call.js") for url in urls)
    doctor_context.close()
    patient_context.close()
