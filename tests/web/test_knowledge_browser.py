"""The knowledge base in Chromium against the real processes of `telemed run` and the demo's
articles: the demo's coordinator searches a word in another form and finds it marked, writes
a Kuzbass article, publishes and edits it (the first version still readable), then on the
new-appeal screen gets it suggested from the topic and the caller's words and opens it to read
out. axe-core on every screen; no token in any URL."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.web.browser import (
    CHROMIUM,
    TOKEN_IN_URL,
    System,
    assert_accessible,
    running_console,
    sign_in,
)

COORDINATOR = "coordinator.kuzbass"  # of the regional centre: writes Kuzbass's articles
TITLE = "Кузбасс: забор крови на дому для маломобильных пациентов"
FIRST_TEXT = "Процедурная сестра приходит в течение трёх рабочих дней по назначению врача."
SECOND_TEXT = FIRST_TEXT + "\n\n- Результаты анализов врач сообщает по телефону."

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's Chromium is needed")


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    with running_console(tmp_path_factory.mktemp("knowledge")) as running:
        yield running


def test_a_coordinator_finds_writes_and_is_offered_an_article_on_a_call(
    system: System, chromium: Browser
) -> None:
    context = chromium.new_context(locale="ru-RU", base_url=system.url)
    urls: list[str] = []
    context.on("request", lambda request: urls.append(request.url))
    page = context.new_page()
    try:
        page.goto("/knowledge")
        sign_in(page, system, COORDINATOR)
        expect(page.locator("h1")).to_have_text("База знаний")
        page.fill("#q", "полиса")
        page.keyboard.press("Enter")
        found = page.locator("li.case-row").filter(has_text="Полис ОМС: как получить")
        expect(found).to_have_count(1)
        expect(found.locator("mark").first).to_be_visible()
        assert_accessible(page, "knowledge base, a search")
        found.get_by_role("link").click()
        expect(page.locator(".article-text")).to_contain_text("едином регистре")
        expect(page.get_by_role("link", name="Изменить статью")).to_have_count(0)  # everywhere's
        assert_accessible(page, "an article")

        page.goto("/knowledge")
        page.get_by_role("link", name="Написать статью").click()
        assert_accessible(page, "a new article")
        page.fill("#title", TITLE)
        page.check("#categories-home_visits")
        page.fill("#body", FIRST_TEXT)
        page.get_by_role("button", name="Сохранить черновик").click()
        expect(page.locator(".notice")).to_contain_text("черновик")
        expect(page.locator(".facts")).to_contain_text("42")
        page.get_by_role("button", name="Опубликовать").click()
        expect(page.locator(".notice")).to_contain_text("опубликована")
        page.get_by_role("link", name="Изменить статью").click()
        page.fill("#body", SECOND_TEXT)
        page.fill("#note", "Как пациент узнаёт результаты")
        page.get_by_role("button", name="Сохранить новую версию").click()
        expect(page.locator(".article-text li")).to_have_text(
            "Результаты анализов врач сообщает по телефону."
        )
        expect(page.locator(".versions li")).to_have_count(3)
        assert_accessible(page, "an article with its versions")
        page.get_by_role("link", name="Версия 1").click()
        expect(page.locator(".article-text")).to_contain_text(FIRST_TEXT)
        expect(page.locator(".article-text li")).to_have_count(0)
        assert_accessible(page, "an article's first version")

        page.goto("/appeals/new")
        page.select_option("#topic", "appointment_help")
        page.fill("#text", "Маме нужно сдать кровь на дому, она не ходит")
        suggestion = page.locator("#suggestions a").filter(has_text=TITLE)
        expect(suggestion).to_have_count(1)
        assert_accessible(page, "new appeal, with articles suggested")
        with context.expect_page() as opened:
            suggestion.click()
        article = opened.value
        expect(article.locator("h1")).to_have_text(TITLE)
        article.close()
        expect(page.locator("#text")).to_have_value("Маме нужно сдать кровь на дому, она не ходит")
    finally:
        context.close()
    assert not [url for url in urls if TOKEN_IN_URL.search(url)]
