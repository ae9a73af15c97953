"""The home-visit screens in Chromium against the real processes of `telemed run`, the article's
example: the demo's hotline operator files a home blood draw for a disabled woman in Tashtagol
(the polyclinic and the window shown before saving, the confirmation with the window to read
out), Tashtagol's coordinator sends the nurse from the day's list, the nurse marks it done with
a note there, and the figures count it. axe-core on every screen; the form fits a phone."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.web.browser import (
    CHROMIUM,
    TOKEN_IN_URL,
    System,
    assert_accessible,
    running_console,
    sign_in,
)

OPERATOR, COORDINATOR, NURSE = "coordinator.kuzbass", "coordinator.tashtagol", "nurse.tashtagol"
NURSE_NAME = "Svetlana Nikolaevna Vasilieva"
POLYCLINIC = "Tashtagol District Hospital"  # the demo's catchment: the Tashtagol district
TASHTAGOL = "32628000"
PHONE = ViewportSize(width=360, height=740)
WIDER_THAN_VIEWPORT = "() => document.scrollingElement.scrollWidth > window.innerWidth"
# The window is read out in the polyclinic's own words: "20 октября (понедельник) с 12:00 до
# 18:00"; the day is today's or the next working day's, by the real clock's cut-off.
READ_OUT = re.compile(r"придёт \d{1,2} \w+ \(\w+\) с 12:00 до 18:00")

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's Chromium is needed")


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    with running_console(tmp_path_factory.mktemp("home_visits")) as running:
        yield running


def opened(chromium: Browser, system: System, path: str, username: str, language: str) -> Page:
    """A new context at `path`, signed in as `username`, in `language`."""
    locale = {"ru": "ru-RU", "en": "en-GB"}[language]
    page = chromium.new_context(locale=locale, base_url=system.url).new_page()
    page.goto(path)
    sign_in(page, system, username)
    if page.get_attribute("html", "lang") != language:
        page.click(f"form.language button[value={language}]")
        page.wait_for_selector(f"html[lang={language}]", state="attached")
    return page


def file_the_blood_draw(page: Page) -> str:
    """The operator's call, field after field as the caller answers; returns the visit's id."""
    expect(page.locator("h1")).to_have_text("Вызов врача на дом")
    assert page.evaluate("() => document.activeElement.id") == "caller_name"
    assert_accessible(page, "new home visit")
    page.fill("#caller_name", "Ковалёва Ирина Павловна")
    page.fill("#phone", "+7 913 555-01-23")
    page.fill("#patient_name", "Ковалёва Антонина Семёновна")
    page.select_option("#territory", TASHTAGOL)
    page.fill("#settlement", "Таштагол")
    page.locator("#settlement").blur()  # htmx asks on the change
    preview = page.locator("#visit-preview")
    expect(preview).to_contain_text(f"{POLYCLINIC} обслуживает этот адрес")
    expect(preview).to_contain_text("12:00–18:00")
    assert_accessible(page, "new home visit, the polyclinic and window shown")
    page.fill("#street", "ул. Ленина")
    page.fill("#address", "д. 12, кв. 4, 3-й этаж, без лифта")
    page.fill("#reason", "Забор крови на дому: женщина с инвалидностью, лежачая после инсульта.")
    with page.expect_navigation():
        page.keyboard.press("Control+Enter")
    filed = page.locator("#filed")
    expect(filed).to_contain_text("Скажите звонящему:")
    assert READ_OUT.search(filed.inner_text()), filed.inner_text()
    assert page.locator("#caller_name").input_value() == ""  # the next caller's form
    assert_accessible(page, "home visit booked, the window to read out")
    link = filed.locator('a[href^="/home-visits/"]').get_attribute("href") or ""
    found = re.fullmatch(r"/home-visits/([0-9a-f-]{36})", link)
    assert found, link
    return found.group(1)


def test_the_home_blood_draw_for_a_disabled_woman(system: System, chromium: Browser) -> None:
    urls: list[str] = []
    operator = opened(chromium, system, "/home-visits/new", OPERATOR, "ru")
    operator.context.on("request", lambda request: urls.append(request.url))
    visit_id = file_the_blood_draw(operator)
    operator.context.close()

    coordinator = opened(chromium, system, f"/home-visits/{visit_id}", COORDINATOR, "en")
    expect(coordinator.locator("h1")).to_have_text("Home visit for Ковалёва Антонина Семёновна")
    expect(coordinator.locator("#visit-status")).to_have_text("Requested: nobody sent yet")
    assert_accessible(coordinator, "home visit, requested")
    coordinator.click("main .breadcrumb a")  # its polyclinic's list for its day
    expect(coordinator.locator("h1")).to_have_text("Home-visit list")
    expect(coordinator.locator("h2")).to_contain_text(POLYCLINIC)
    day_list = coordinator.url
    row = coordinator.locator(f"#visit-{visit_id}")
    expect(row).to_contain_text("Забор крови на дому")
    assert_accessible(coordinator, "home-visit list, requested")
    row.get_by_label("Who goes").select_option(label=NURSE_NAME)
    row.get_by_role("button", name="Send").click()
    expect(row).to_contain_text(f"Goes: {NURSE_NAME}")
    expect(row).to_contain_text("Assigned")
    assert_accessible(coordinator, "home-visit list, assigned")

    nurse = opened(chromium, system, day_list, NURSE, "en")
    row = nurse.locator(f"#visit-{visit_id}")
    expect(row).to_contain_text(f"Goes: {NURSE_NAME}")
    row.get_by_label("What was done").fill("Blood drawn at 13:10; samples in the laboratory.")
    row.get_by_role("button", name="Mark done").click()
    expect(row).to_contain_text("Done")
    expect(row.get_by_role("button", name="Mark done")).to_have_count(0)
    assert_accessible(nurse, "home-visit list, done")
    nurse.context.close()

    coordinator.reload()
    coordinator.click("main a:text('Figures')")
    expect(coordinator.locator("h1")).to_have_text("Home-visit figures")
    day = re.search(r"day=(\d{4}-\d{2}-\d{2})", day_list)
    assert day, day_list
    figures = coordinator.locator(f"tr:has(th:text-is('{day.group(1)}')) td")
    expect(figures.nth(0)).to_have_text("1")  # calls
    expect(figures.nth(1)).to_have_text("1")  # done
    assert_accessible(coordinator, "home-visit figures")
    coordinator.context.close()
    assert not [url for url in urls if TOKEN_IN_URL.search(url)]


def test_the_call_form_fits_a_phone(system: System, chromium: Browser) -> None:
    context = chromium.new_context(
        locale="ru-RU", base_url=system.url, viewport=PHONE, has_touch=True
    )
    page = context.new_page()
    page.goto("/home-visits/new")
    sign_in(page, system, OPERATOR)
    expect(page.locator("h1")).to_have_text("Вызов врача на дом")
    page.select_option("#territory", TASHTAGOL)
    expect(page.locator("#visit-preview")).to_contain_text(POLYCLINIC)
    assert not page.evaluate(WIDER_THAN_VIEWPORT)
    context.close()
