"""The registry in Chromium against the real processes of `telemed run`, its email caught by
telemed's own catcher (telemed/catcher.py, as `--mail-catcher` runs it): the call centre's
registrar registers a new patient with an email address, books the in-person first visit on
the week of free slots; the cardiologist marks it arrived and taken place on her calendar once
it has begun; the registrar books two remote follow-ups as a series, and the patient's
invitation emails arrive. axe-core on every screen."""

import asyncio
import email
import email.policy
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from telemed.catcher import Catcher
from telemed.demo.api import Api
from telemed.demo.visits import Clock, Visits, iso, parse
from tests.web.browser import (
    CHROMIUM,
    System,
    assert_accessible,
    running_console,
    sign_in,
)

REGISTRAR, CARDIOLOGIST, MEDIC, PATIENT = (
    "registrar.callcentre", "cardiologist.kuzbass", "medic.tashtagol", "patient.petrov",
)  # fmt: skip
ADDRESS = "sidorova.registry@demo.example.org"
LEAD = timedelta(seconds=15)  # the first visit starts this long after its hours are opened
MAIL_SECONDS = 60

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's Chromium is needed")


@pytest.fixture(scope="module")
def catcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catcher]:
    with Catcher(tmp_path_factory.mktemp("catcher")) as running:
        yield running


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory, catcher: Catcher) -> Iterator[System]:
    with running_console(tmp_path_factory.mktemp("registry"), **catcher.gateway_env()) as running:
        yield running


async def _open_hours(system: System) -> str:
    """The cardiologist's schedule with no notice and 5-minute in-person visits, and extra
    hours from a moment shortly ahead (a one-second leave before it anchors the slot grid
    there): the week's first free slot. Returns that moment (ISO, UTC)."""
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        api = Api(client)
        medic, cardiologist, patient = [
            await api.login(name, system.password(name)) for name in (MEDIC, CARDIOLOGIST, PATIENT)
        ]
        clock = Clock()
        await clock.set_from(api)
        visits = Visits(api, clock, medic, cardiologist, patient)
        await visits.prepare_schedule()
        start = clock.now().replace(microsecond=0) + LEAD
        assert visits.schedule is not None
        path = f"/api/scheduling/schedules/{visits.schedule['id']}/exceptions"
        for kind, begins, ends in (("unavailable", start - timedelta(seconds=1), start),
                                   ("extra", start, start + timedelta(hours=2))):  # fmt: skip
            body = {"kind": kind, "start": iso(begins), "end": iso(ends)}
            await api.call("POST", path, cardiologist, json=body, expect=201)
        return iso(start)


def _invitations(catcher: Catcher) -> list[email.message.EmailMessage]:
    found = []
    for path in sorted(catcher.mail.folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        if ADDRESS in str(message["To"]) and message["X-Telemed-Template"] == "visit.invitation":
            found.append(message)
    return found


def _signed_in(chromium: Browser, system: System, username: str, path: str) -> Page:
    context = chromium.new_context(locale="ru-RU", base_url=system.url)
    page = context.new_page()
    page.goto(path)
    sign_in(page, system, username)
    return page


def test_a_registrar_books_a_first_visit_and_two_follow_ups_for_a_new_patient(
    system: System, chromium: Browser, catcher: Catcher
) -> None:
    desk = _signed_in(chromium, system, REGISTRAR, "/patients")
    expect(desk.locator("h1")).to_have_text("Пациенты")
    assert_accessible(desk, "patients")
    desk.fill("#full_name", "Мария Петровна Сидорова")
    desk.fill("#birth_date", "1956-03-14")
    desk.check("#sex-female")
    desk.fill("#email", ADDRESS)
    desk.select_option("#organization_id", label="Tashtagol District Hospital")
    desk.click('form[method="post"][action="/patients"] button:not([name])')
    expect(desk.locator(".notice")).to_have_text("Пациент зарегистрирован.")
    assert_accessible(desk, "patient")
    patient_path = desk.url.split("?")[0].removeprefix(system.url)

    # Playwright's sync API runs its own loop in this thread: the API calls go in another.
    with ThreadPoolExecutor(1) as pool:
        first_start = pool.submit(asyncio.run, _open_hours(system)).result()
    desk.click(f'a[href="{patient_path}/book"]')
    desk.select_option("#specialty", "cardiology")
    desk.click("form.filters button")
    expect(desk.locator("button.slot").first).to_be_visible()
    assert_accessible(desk, "booking")
    desk.locator("button.slot").first.click()
    expect(desk.locator(".notice")).to_contain_text("записан на первичный приём")

    calendar = _signed_in(chromium, system, CARDIOLOGIST, "/schedule")
    expect(calendar.locator("h1")).to_have_text("Ваше расписание")
    assert_accessible(calendar, "schedule")
    calendar.click("text=Ваши приёмы по неделям")
    assert_accessible(calendar, "calendar")
    visit = calendar.locator("li.visit").first
    visit.get_by_role("button", name="Пришёл", exact=True).click()
    wait = parse(first_start).timestamp() - time.time() + 1
    time.sleep(max(0.0, wait))  # the visit can only have taken place once it has begun
    calendar.get_by_role("button", name="Состоялся", exact=True).first.click()
    expect(calendar.locator(".status").first).to_have_text("Состоялся")

    desk.goto(patient_path)
    desk.click("text=Записать на серию дистанционных повторных приёмов")
    tomorrow = desk.evaluate("() => { const d = new Date(Date.now() + 86400000);"
                             " if (d.getDay() === 0) d.setDate(d.getDate() + 1);"
                             " return d.toISOString().slice(0, 10); }")  # fmt: skip
    desk.fill("#first_date", tomorrow)
    desk.fill("#first_time", "10:00")
    desk.fill("#every_days", "7")
    desk.fill("#count", "2")
    desk.click('form[action$="/follow-ups"] button')
    expect(desk.locator(".notice")).to_have_text("Записано повторных приёмов: 2 из 2.")
    assert_accessible(desk, "follow-ups")

    deadline = time.monotonic() + MAIL_SECONDS
    while len(invitations := _invitations(catcher)) < 3 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert len(invitations) == 3, [message["Subject"] for message in invitations]
    texts = [str(body.get_content()) for message in invitations
             if (body := message.get_body(("plain",))) is not None]  # fmt: skip
    assert sum("/visit/" in text for text in texts) == 2  # the remote ones carry the link
