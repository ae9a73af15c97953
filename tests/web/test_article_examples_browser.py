"""The articles' own examples (issue 20) walked in Chromium against the real processes of
`telemed run` and the demo, as their people work them: the hotline operator files each call on
/appeals/new by keyboard, the hotline routes it to Tashtagol District Hospital, and the
hospital's coordinator settles it from the console.

1. A 65-year-old woman was referred to a cardiologist urgently, but her in-person visit was
   booked three weeks away: her daughter calls; the coordinator finds the mother on the registry
   screens, moves the visit to the earliest free time, and resolves the appeal with the visit
   moved forward and the new date in the answer; the daughter is owed the callback with it.
2. A patient was asked to pay for a histology the OMS programme covers: the operator is offered
   the knowledge base's article on it while typing; the coordinator resolves the appeal with the
   examination arranged free, citing the article, and the article's figure counts it.

axe-core on every screen; no token in any URL."""

import asyncio
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from telemed.demo.api import Api
from telemed.demo.visits import Clock, Visits, iso, parse
from tests.web.browser import (
    CHROMIUM,
    TOKEN_IN_URL,
    System,
    assert_accessible,
    running_console,
    sign_in,
)
from web.registry.week import day_title

OPERATOR = "coordinator.kuzbass"  # the hotline's operator, at the regional centre
HOSPITAL = "coordinator.tashtagol"  # Tashtagol District Hospital's coordinator
CARDIOLOGIST, MEDIC, PATIENT = "cardiologist.kuzbass", "medic.tashtagol", "patient.petrov"
HOSPITAL_NAME = "Tashtagol District Hospital"
ZONE = ZoneInfo("Asia/Novokuznetsk")  # the hospital's and the cardiologist's
MOTHER = "Зинаида Павловна Морозова"
WEEKS_AWAY = 3
# The new-appeal form's lists, chosen by arrows from their placeholders: Таштагольский район is
# the first territory of the demo's map; the topics are the categories in the form's order.
TASHTAGOL = 1
APPOINTMENT_HELP, REFUSAL_OF_FREE_CARE = 2, 3
URGENT_TITLE = "Кузбасс: срочную запись к специалисту можно перенести ближе"
HISTOLOGY_TITLE = "Отказали в бесплатной гистологии или анализе по направлению врача"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's Chromium is needed")


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    with running_console(tmp_path_factory.mktemp("examples")) as running:
        yield running


async def _booked_weeks_away(system: System) -> datetime:
    """Before the call: the cardiologist's working week (the demo's), and the mother, 65 this
    year, registered at the hospital with her in-person visit booked three weeks ahead at 10:00.
    Returns that visit's start."""
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        api = Api(client)
        names = (MEDIC, CARDIOLOGIST, PATIENT, HOSPITAL)
        medic, cardiologist, patient, hospital = [
            await api.login(name, system.password(name)) for name in names
        ]
        clock = Clock()
        await clock.set_from(api)
        await Visits(api, clock, medic, cardiologist, patient).prepare_schedule()
        today = clock.now().astimezone(ZONE).date()
        mother = await api.json(
            "POST", "/api/directory/patients", hospital, expect=201,
            json={"full_name": MOTHER, "birth_date": date(today.year - 65, 1, 1).isoformat(),
                  "sex": "female", "phone": "+7 913 555-20-65"},
        )  # fmt: skip
        day = today + timedelta(weeks=WEEKS_AWAY)
        day += timedelta(days=1) if day.weekday() == 6 else timedelta()  # no hours on Sundays
        start = datetime.combine(day, time(10), ZONE)
        body = {"practitioner_id": str(cardiologist.id), "visit_type": "in_person",
                "start": iso(start), "patient_id": mother["id"]}  # fmt: skip
        await api.call("POST", "/api/scheduling/appointments", hospital, json=body, expect=201)
        return start


def _signed_in(context: BrowserContext, system: System, username: str, path: str) -> Page:
    page = context.new_page()
    page.goto(path)
    sign_in(page, system, username)
    return page


def _file(page: Page, caller: str, phone: str, topic: int, words: str, article: str) -> str:
    """One call on the new-appeal form by keys alone, the article for it offered as the words
    are typed; returns the appeal's id."""
    keys = page.keyboard
    page.focus("#contact_name")
    keys.type(caller)
    keys.press("Tab")
    keys.type(phone)
    keys.press("Tab")  # the channel: phone, as it is
    keys.press("Tab")
    for _ in range(TASHTAGOL):
        keys.press("ArrowDown")
    expect(page.locator("#route-preview")).to_contain_text(HOSPITAL_NAME)
    keys.press("Tab")
    for _ in range(topic):
        keys.press("ArrowDown")
    keys.press("Tab")
    keys.type(words)
    expect(page.locator("#suggestions a").filter(has_text=article)).to_have_count(1)
    assert_accessible(page, "new appeal, an article offered")
    with page.expect_navigation():
        keys.press("Enter")
    expect(page.locator("#filed")).to_contain_text(HOSPITAL_NAME)
    link = page.locator('#filed a[href^="/appeals/"]').get_attribute("href") or ""
    filed = re.fullmatch(r"/appeals/([0-9a-f-]{36})", link)
    assert filed, link
    return filed.group(1)


def _open_from_queue(page: Page, appeal_id: str) -> None:
    """The hospital's open appeals, then the one asked for, taken."""
    page.goto("/appeals")
    page.select_option("#organization", label=HOSPITAL_NAME)
    page.get_by_role("button", name="Показать").click()
    assert_accessible(page, "the hospital's appeals")
    page.click(f'a[href="/appeals/{appeal_id}"]')
    page.get_by_role("button", name="Взять обращение в работу").click()
    expect(page.locator(".notice")).to_contain_text("Вы взяли обращение в работу")


def _resolve(page: Page, action: str, answer: str, article: str) -> None:
    """The resolve form as the hospital's coordinator fills it in: not at the first contact
    (the caller hung up long ago), the article the answer rests on cited."""
    page.check(f"#actions-{action}")
    page.fill("#done_by_name", "Гусева Ирина Павловна")
    page.fill("#done_by_position", "Заместитель главного врача по поликлинической работе")
    page.check("#result-resolved")
    page.fill("#answer", answer)
    page.check("#first_contact_resolution-no")
    page.select_option("#article_id", label=article)
    assert_accessible(page, "appeal page, the resolve form filled in")
    page.get_by_role("button", name="Решить обращение").click()
    expect(page.locator(".notice")).to_contain_text("Обращение решено")


def test_the_urgent_visit_moved_forward_and_the_free_histology(
    system: System, chromium: Browser
) -> None:
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API runs its own loop here
        booked = pool.submit(asyncio.run, _booked_weeks_away(system)).result()
    urls: list[str] = []
    contexts = [chromium.new_context(locale="ru-RU", base_url=system.url) for _ in range(2)]
    for context in contexts:
        context.on("request", lambda request: urls.append(request.url))
    try:
        desk = _signed_in(contexts[0], system, OPERATOR, "/appeals/new")
        expect(desk.locator("h1")).to_have_text("Новое обращение")
        assert_accessible(desk, "new appeal")
        urgent = _file(
            desk, "Морозова Елена (дочь)", "+7 913 555-20-66", APPOINTMENT_HELP,
            "Маме 65 лет, кардиолог направил срочно, а приём записали только через три недели",  # noqa: RUF001
            URGENT_TITLE,
        )  # fmt: skip
        histology = _file(
            desk, "Кравцова Людмила", "+7 913 555-31-12", REFUSAL_OF_FREE_CARE,
            "В поликлинике требуют 4500 рублей за гистологию биопсии по направлению онколога",  # noqa: RUF001
            HISTOLOGY_TITLE,
        )  # fmt: skip

        # Story 1: the hospital's coordinator moves the mother's visit forward.
        clinic = _signed_in(contexts[1], system, HOSPITAL, "/appeals")
        _open_from_queue(clinic, urgent)
        clinic.goto("/patients")
        clinic.fill("#name", "Морозова")
        clinic.get_by_role("button", name="Найти").click()
        clinic.get_by_role("link", name=MOTHER).click()
        visit = clinic.locator("li.visit")
        expect(visit).to_have_count(1)
        old_day = visit.locator(".visit-time strong").inner_text()
        assert old_day.startswith(day_title(booked.date(), "ru")), old_day
        assert_accessible(clinic, "the mother's visits")
        visit.get_by_role("link", name="Перенести приём").click()
        assert_accessible(clinic, "moving the visit")
        if not clinic.locator("button.slot").count():  # no free time left this week
            clinic.get_by_role("link", name="Следующая неделя").click()
        clinic.fill("#reason", "Срочное направление кардиолога")
        slot = clinic.locator("button.slot").first
        moved_to = parse((slot.get_attribute("value") or "").split(" ")[1])
        assert moved_to < booked
        slot.click()
        expect(clinic.locator(".notice")).to_contain_text("Приём перенесён")
        new_visit = clinic.locator("li.visit").filter(has_text="Записан")
        new_day = day_title(moved_to.astimezone(ZONE).date(), "ru")
        expect(new_visit.locator(".visit-time strong")).to_contain_text(new_day)
        new_time = new_visit.locator(".visit-time strong").inner_text()
        expect(clinic.locator("li.visit").filter(has_text="Отменён")).to_contain_text(old_day)
        assert_accessible(clinic, "the mother's visit moved")

        clinic.goto(f"/appeals/{urgent}")
        _resolve(
            clinic, "moved_appointment_forward",
            "Мы связались с регистратурой Таштагольской районной больницы: приём кардиолога "  # noqa: RUF001
            f"для Зинаиды Павловны перенесён с {old_day} на {new_time}, кабинет 214. "  # noqa: RUF001
            "Направление и полис взять с собой.",  # noqa: RUF001
            URGENT_TITLE,
        )  # fmt: skip
        resolution = clinic.locator(".resolution")
        expect(resolution).to_contain_text("Приём перенесли на более ранний срок")
        expect(resolution).to_contain_text("Гусева Ирина Павловна")
        answer = clinic.locator("h2:text-is('Ответ') + p.text")
        expect(answer).to_contain_text(f"на {new_time}")
        callbacks = clinic.locator(".callbacks")
        expect(callbacks).to_contain_text("Ответ по телефону, +7 913 555-20-66: Ожидает")
        assert_accessible(clinic, "the urgent appeal resolved")

        # Story 2: the hospital's coordinator arranges the histology free, citing the article.
        _open_from_queue(clinic, histology)
        _resolve(
            clinic, "arranged_free_care",
            "Мы позвонили заведующей поликлиникой: гистология по направлению онколога входит в "
            "программу ОМС, оплату с вас не возьмут. Биоматериал примут бесплатно в кабинете "  # noqa: RUF001
            "108 в будние дни с 8:00 до 12:00, результат через 10 рабочих дней.",  # noqa: RUF001
            HISTOLOGY_TITLE,
        )  # fmt: skip
        expect(clinic.locator(".resolution")).to_contain_text("Помощь оказана бесплатно по ОМС")  # noqa: RUF001
        cited = clinic.get_by_role("link", name=HISTOLOGY_TITLE)
        expect(cited).to_have_count(1)
        assert_accessible(clinic, "the histology appeal resolved, the article cited")
        cited.click()
        expect(clinic.locator("h1")).to_have_text(HISTOLOGY_TITLE)

        clinic.goto("/knowledge/figures")
        for title in (URGENT_TITLE, HISTOLOGY_TITLE):  # each settled one call, after follow-up
            row = clinic.locator("table.article-figures tr").filter(has_text=title)
            expect(row.locator("td")).to_have_text(["1", "0 (0%)"])
        assert_accessible(clinic, "which articles settle calls")
    finally:
        for context in contexts:
            context.close()
    assert not [url for url in urls if TOKEN_IN_URL.search(url)]
