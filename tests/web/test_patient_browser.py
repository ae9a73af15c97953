"""The patient's screens in Chromium at phone size (360x740, touch) against the real processes
of `telemed run`: the demo patient, seen in person a moment ago and booked for a video visit
right after, finds "Join" enabled on their home page; asks the cardiologist a question with a
photo taken on the phone (a small JPEG the page makes smaller and uploads through the console's
relay, shown as a thumbnail first); reads the question's page. axe-core on every screen, no
horizontal scrolling, no token in any URL the console makes. A screenshot of each screen is
left in the test's folder to look at."""

import asyncio
import base64
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, FilePayload, Page, ViewportSize, expect

from telemed.demo.api import Api
from telemed.demo.visits import Clock, Visits, parse
from tests.web.browser import (
    CHROMIUM,
    TOKEN_IN_URL,
    System,
    assert_accessible,
    running_console,
    sign_in,
)

PATIENT, MEDIC, CARDIOLOGIST = "patient.petrov", "medic.tashtagol", "cardiologist.kuzbass"
PHONE = ViewportSize(width=360, height=740)

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's Chromium is needed")


async def _seen_and_booked(system: System) -> dict[str, Any]:
    """The demo's own steps: the cardiologist's schedule made ready, an episode the medic
    opens, the in-person visit held now, and a remote follow-up right after it."""
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        api = Api(client)
        medic, cardiologist, patient = [
            await api.login(name, system.password(name)) for name in (MEDIC, CARDIOLOGIST, PATIENT)
        ]
        clock = Clock()
        await clock.set_from(api)
        visits = Visits(api, clock, medic, cardiologist, patient)
        await visits.prepare_schedule()
        body = {"patient_id": str(patient.id), "specialty": "cardiology",
                "practitioner_id": str(cardiologist.id)}  # fmt: skip
        episode = await api.json("POST", "/api/scheduling/episodes", medic, json=body, expect=201)
        first = await visits.fulfil(await visits.book_first_visit(episode["id"]))
        remote: dict[str, Any] = await visits.book(episode["id"], "remote", parse(first["end"]))
        return remote


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    with running_console(tmp_path_factory.mktemp("patients")) as running:
        yield running


def fits_the_phone(page: Page, screen: str, shots: Path) -> None:
    """axe-core's rules, nothing wider than the screen, and a screenshot to look at."""
    assert_accessible(page, screen)
    width = page.evaluate("() => document.scrollingElement.scrollWidth")
    assert width <= page.evaluate("() => window.innerWidth"), f"{screen}: {width} px wide"
    page.screenshot(path=str(shots / f"{screen}.png"), full_page=True)


def a_photo(page: Page) -> bytes:
    """A real JPEG, 2000x1500, drawn by the browser: the page makes it smaller before sending."""
    data_url: str = page.evaluate(
        """() => {
          const canvas = document.createElement("canvas");
          canvas.width = 2000; canvas.height = 1500;
          const context = canvas.getContext("2d");
          context.fillStyle = "#c98"; context.fillRect(0, 0, 2000, 1500);
          context.fillStyle = "#734"; context.fillRect(600, 400, 800, 700);
          return canvas.toDataURL("image/jpeg", 0.9);
        }"""
    )
    return base64.b64decode(data_url.split(",", 1)[1])


def test_the_patient_joins_asks_with_a_photo_and_reads_the_question_on_a_phone(
    system: System, chromium: Browser, tmp_path: Path
) -> None:
    # Playwright's sync API runs its own loop in this thread: the API calls go in another.
    with ThreadPoolExecutor(1) as pool:
        remote = pool.submit(asyncio.run, _seen_and_booked(system)).result()
    urls: list[str] = []
    context = chromium.new_context(
        locale="ru-RU", base_url=system.url, viewport=PHONE, has_touch=True, is_mobile=True
    )
    context.on("request", lambda request: urls.append(request.url))
    try:
        page = context.new_page()
        page.goto("/")
        sign_in(page, system, PATIENT)
        expect(page.locator("h1")).to_have_text("Ваши приёмы")
        join = page.locator(f'form[action="/appointments/{remote["id"]}/join"] button')
        expect(join).to_be_enabled()  # the visit begins within the quarter hour
        expect(page.locator(".visit-time").first).to_contain_text("(Новокузнецк)")
        fits_the_phone(page, "home", tmp_path)

        page.click("nav >> text=Мои вопросы")
        expect(page.locator("h1")).to_have_text("Мои вопросы")
        fits_the_phone(page, "questions", tmp_path)
        page.click("text=Задать новый вопрос")
        expect(page.locator("h1")).to_have_text("Вопрос специалисту")
        expect(page.locator("#full_name")).to_have_value("Sergei Nikolaevich Petrov")
        page.select_option("#specialty", "cardiology")
        page.fill("#question", "Отекают ноги к вечеру. Продолжать амлодипин?")
        page.check("#sign-leg_swelling")
        page.fill("#birth_date", "1961-04-12")
        page.check("#sex-male")
        page.fill("#insurance_policy", "4250000000000123")
        photo = a_photo(page)
        page.set_input_files(
            "#photo", files=[FilePayload(name="ankle.jpg", mimeType="image/jpeg", buffer=photo)]
        )
        preview = page.locator("#photo-previews li").first
        expect(preview).to_have_class(re.compile(r"\bdone\b"), timeout=30_000)
        expect(preview.locator("img")).to_have_attribute("src", re.compile(r"^data:image/"))
        fits_the_phone(page, "new question", tmp_path)
        page.click("button[type=submit] >> text=Отправить вопрос")

        expect(page.locator(".notice")).to_contain_text("Ваш вопрос отправлен специалисту.")
        expect(page.locator("main")).to_contain_text("ankle.jpg")
        expect(page.locator("main")).to_contain_text("Отёки ног")
        fits_the_phone(page, "question", tmp_path)
    finally:
        context.close()
    uploads = [url for url in urls if "/uploads" in url]
    assert uploads, "the photo went through the console's relay"
    assert not [url for url in urls if TOKEN_IN_URL.search(url)]
