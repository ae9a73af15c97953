"""The hotline operator's screens in Chromium against the real processes of `telemed run`: the
demo's coordinator files 20 appeals in a row by keyboard alone (Tab, arrows, typing, Enter),
one on a topic the hotline does not handle (its answer shown to read out before saving) and one
a dropped call (Alt+D), each time the organisation and deadline shown before saving and the
next empty form focused; then works the dropped call's callback (no answer, then reached),
reads the queue, and on the appeal's page resolves it with what was done, a formulaic answer
explained first. axe-core on every screen; no token in any URL."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.browser import (
    CHROMIUM,
    TOKEN_IN_URL,
    System,
    assert_accessible,
    running_console,
    sign_in,
)

OPERATOR = "coordinator.kuzbass"
APPEALS = 20
EXCLUDED_AT, DROPPED_AT = 6, 13  # which of the 20 callers
# Two territories of the demo's map (`telemed seed --demo`), the first two by code, with the
# organisations that answer their callers (OKTMO codes).
TERRITORIES = {
    "32628000": ("Таштагольский район", "Tashtagol District Hospital"),
    "32701000": ("Кемерово", "Kemerovo City Polyclinic No. 5"),
}
# The topic list: a placeholder, eight categories, then the three topics the hotline does not
# handle; arrows from the placeholder choose by position.
QUESTION, EMERGENCY_CARE = 1, 11

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's Chromium is needed")


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    with running_console(tmp_path_factory.mktemp("appeals")) as running:
        yield running


def focused(page: Page) -> str:
    return str(page.evaluate("() => document.activeElement.id"))


def arrow_down(page: Page, times: int) -> None:
    for _ in range(times):
        page.keyboard.press("ArrowDown")


def file_by_keyboard(page: Page, index: int) -> str:
    """One caller, from the focused name field to the next empty form, by keys alone; returns
    the appeal's id."""
    assert focused(page) == "contact_name"
    keys = page.keyboard
    keys.type(f"Звонящий {index}")
    keys.press("Tab")
    keys.type(f"+7 913 000-00-{index:02d}")
    keys.press("Tab")  # the channel: phone, as it is
    keys.press("Tab")
    arrow_down(page, 1 + index % 2)  # Tashtagol or Kemerovo
    code = list(TERRITORIES)[index % 2]
    expect(page.locator("#route-preview")).to_contain_text(TERRITORIES[code][1])
    keys.press("Tab")
    arrow_down(page, EMERGENCY_CARE if index == EXCLUDED_AT else QUESTION)
    if index == EXCLUDED_AT:
        expect(page.locator("#topic-answer")).to_contain_text("103")
    keys.press("Tab")
    keys.type("Как сменить страховую компанию?")
    with page.expect_navigation():  # the answer is the confirmation and the next empty form
        keys.press("Alt+d" if index == DROPPED_AT else "Enter")
    expect(page.locator("#filed")).to_contain_text("зарегистрировано")
    if index == EXCLUDED_AT:
        expect(page.locator("#filed")).to_contain_text("103")
        assert_accessible(page, "new appeal, after an excluded topic")
    if index == DROPPED_AT:
        expect(page.locator("#filed")).to_contain_text("Обратный звонок")
    assert page.locator("#contact_name").input_value() == ""
    link = page.locator('#filed a[href^="/appeals/"]').get_attribute("href") or ""
    filed = re.fullmatch(r"/appeals/([0-9a-f-]{36})", link)
    assert filed, link
    return filed.group(1)


def test_an_operator_files_twenty_appeals_by_keyboard_and_works_the_callback(
    system: System, chromium: Browser
) -> None:
    context = chromium.new_context(locale="ru-RU", base_url=system.url)
    urls: list[str] = []
    context.on("request", lambda request: urls.append(request.url))
    page = context.new_page()
    try:
        page.goto("/appeals/new")
        sign_in(page, system, OPERATOR)
        expect(page.locator("h1")).to_have_text("Новое обращение")
        assert_accessible(page, "new appeal")
        filed = {index: file_by_keyboard(page, index) for index in range(1, APPEALS + 1)}

        page.goto("/callbacks")
        assert_accessible(page, "callbacks due now")
        row = page.locator("li.callback").first
        expect(row).to_contain_text("+7 913 000-00-13")
        row.get_by_role("button", name="Нет ответа").focus()
        page.keyboard.press("Enter")
        expect(row).to_contain_text("следующая попытка")
        expect(row).to_contain_text("попытка 2 из 3")
        row.get_by_role("button", name="Дозвонились").focus()
        page.keyboard.press("Enter")
        expect(row).to_contain_text("Решить обращение")
        assert_accessible(page, "callbacks, worked")

        page.goto("/appeals")
        expect(page.locator("li.case-row")).to_have_count(APPEALS - 1)  # one answered at once
        assert_accessible(page, "appeals queue")

        page.goto(f"/appeals/{filed[DROPPED_AT]}")
        expect(page.locator(".callbacks")).to_contain_text("Дозвонились")
        assert_accessible(page, "appeal page, the resolve form")
        page.check("#actions-gave_information")
        page.fill("#done_by_name", "Иванова Ольга Петровна")
        page.fill("#done_by_position", "Оператор горячей линии")
        page.check("#result-resolved")
        page.fill("#answer", "Ваше обращение рассмотрено и обработано.")
        page.check("#first_contact_resolution-no")
        page.get_by_role("button", name="Решить обращение").click()
        expect(page.locator("#answer-error")).to_contain_text("что именно сделано")
        expect(page.locator("#answer-explained")).to_contain_text("Например")
        expect(page.locator("#actions-gave_information")).to_be_checked()  # kept as ticked
        assert_accessible(page, "appeal page, a formulaic answer explained")
        page.fill(
            "#answer",
            "Сменить страховую компанию можно раз в год, до 1 ноября: заявление в любом офисе "
            "новой компании с паспортом и СНИЛС, полис выдадут в тот же день.",  # noqa: RUF001
        )
        page.get_by_role("button", name="Решить обращение").click()
        expect(page.locator(".notice")).to_contain_text("Обращение решено")
        expect(page.locator(".resolution")).to_contain_text("Дали нужные сведения")
        expect(page.locator(".resolution")).to_contain_text("Иванова Ольга Петровна")
        assert_accessible(page, "appeal page, resolved with what was done")
    finally:
        context.close()
    assert not [url for url in urls if TOKEN_IN_URL.search(url)]
