"""The issue's Khabarovsk example in Chromium against the real processes of `telemed run` and the
demo: a person asks the region's medical chat in Telegram whether a drug is to be had (the test
posts the update to the gateway's webhook as Telegram does, with the bot's secret token); the
chat's coordinator first words the organisation's Russian answer on medicine availability on
the where-to-go answers' screen, then finds the appeal with its conversation in the queue, sees
the person's next message added while the page is open, and answers it with where to go; the
loopback "Telegram" receives sendMessage with the person's chat_id and that answer. axe-core
on every screen, the appeal's page at 360 px too."""

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, ViewportSize, expect

from telemed.launcher import SERVER_OPTIONS
from tests.consult.chats.telegram_server import SECRET, TOKEN, FakeTelegram, update
from tests.web.browser import (
    CHROMIUM,
    TOKEN_IN_URL,
    System,
    assert_accessible,
    running_console,
    sign_in,
)

COORDINATOR = "coordinator.khabarovsk"  # works the demo's Khabarovsk Krai Medical Chat
BOT = "khabarovsk"  # the demo's bot, bound to the city of Khabarovsk
CHAT_ID = 428_003_117
QUESTION = "Есть ли в аптеках Хабаровска инсулин гларгин?"
MORE = "Нужен для мамы, 72 года."
ANSWER = (
    "Наличие инсулина гларгин в аптеках Хабаровска подскажет краевая справочная о лекарствах: "
    "8 (4212) 40-00-00, с 8 до 20 без выходных. Если его нет, замену подберёт ваш врач."
)
PHONE = ViewportSize(width=360, height=740)

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's Chromium is needed")


class LoopbackTelegram:
    """The loopback Bot API (tests/consult/chats/telegram_server.py) under uvicorn in a thread
    of its own, beside Playwright's."""

    def __init__(self) -> None:
        self.fake = FakeTelegram()
        config = uvicorn.Config(
            self.fake.app(), host="127.0.0.1", port=0, log_config=None, **SERVER_OPTIONS
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = ""

    def __enter__(self) -> "LoopbackTelegram":
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "the loopback Telegram did not start"
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def sent(self, text: str, within: float = 30) -> dict[str, Any]:
        """The sendMessage the chat received with this text (the courier sends it soon after)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            found = [each for each in self.fake.sent if each["text"] == text]
            if found:
                (body,) = found
                return body
            time.sleep(0.1)
        raise AssertionError(f"not sent; the chat received {self.fake.sent}")


@pytest.fixture(scope="module")
def telegram() -> Iterator[LoopbackTelegram]:
    with LoopbackTelegram() as loopback:
        yield loopback


@pytest.fixture(scope="module")
def system(
    tmp_path_factory: pytest.TempPathFactory, telegram: LoopbackTelegram
) -> Iterator[System]:
    bots = {BOT: {"token": TOKEN, "secret_token": SECRET}}
    with running_console(
        tmp_path_factory.mktemp("chats"),
        TELEMED_CONSULT_CHAT_BOTS=json.dumps(bots),
        TELEMED_CONSULT_TELEGRAM_API_BASE=telegram.url,
        TELEMED_CONSULT_CHAT_POLL_INTERVAL_SECONDS="0.5",
    ) as running:
        yield running


def ask(system: System, update_id: int = 910_001, text: str = QUESTION) -> str:
    """The person's message, posted to the gateway's webhook as Telegram posts it."""
    response = httpx.post(
        f"{system.url}/api/consult/channels/telegram/{BOT}",
        json=update(update_id, text, chat_id=CHAT_ID, first_name="Ирина"),
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["taken"] is True, answer
    appeal_id: str = answer["appeal_id"]
    return appeal_id


def word_the_answer(page: Page) -> None:
    """On the where-to-go answers' screen: the built-in Russian answer replaced by the chat's."""
    page.goto("/appeals/answers")  # the coordinator's own organisation's
    expect(page.locator("h1")).to_contain_text("Khabarovsk Krai Medical Chat")
    assert_accessible(page, "where-to-go answers, built-in")
    field = page.locator("#answer-medicine_availability-ru")
    expect(field).to_contain_text("Горячая линия не знает")  # the built-in answer, shown
    field.fill(ANSWER)
    form = page.locator('form[action$="/medicine_availability/ru"]')
    form.get_by_role("button", name="Сохранить ответ").click()
    expect(page.locator(".notice")).to_contain_text("Ответ сохранён")
    expect(field).to_have_value(ANSWER)
    assert_accessible(page, "where-to-go answers, the chat's own")


def test_a_khabarovsk_chat_question_on_a_drug_is_answered_with_where_to_go(
    system: System, chromium: Browser, telegram: LoopbackTelegram
) -> None:
    appeal_id = ask(system)
    urls: list[str] = []
    context = chromium.new_context(locale="ru-RU", base_url=system.url)
    context.on("request", lambda request: urls.append(request.url))
    try:
        page = context.new_page()
        page.goto("/appeals/answers")
        sign_in(page, system, COORDINATOR)
        word_the_answer(page)

        page.goto("/appeals")
        link = page.locator(f'a[href="/appeals/{appeal_id}"]')
        expect(link).to_have_count(1)
        assert_accessible(page, "the chat's appeals")
        link.click()
        expect(page.locator("h1")).to_contain_text(appeal_id[:8])
        expect(page.locator(".summary")).to_contain_text("Хабаровск")
        expect(page.locator("p.text").first).to_have_text(QUESTION)
        expect(page.locator("#thread-heading")).to_have_text("Переписка")
        assert_accessible(page, "the chat appeal")
        # She writes again while the page is open: its next poll (every 10 s) adds it.
        assert ask(system, 910_002, MORE) == appeal_id
        expect(page.locator("#thread-messages li.message-in")).to_contain_text(MORE, timeout=20_000)
        expect(page.locator("#thread-empty")).to_have_count(0)
        expect(page.locator("#thread-after")).not_to_have_value("0")
        assert_accessible(page, "the chat appeal, a new message added")
        page.set_viewport_size(PHONE)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the appeal's page scrolls sideways at 360 px: {width}"
        assert_accessible(page, "the chat appeal at 360 px")

        page.get_by_text("Ответить, куда обратиться").click()
        page.check("#topic-medicine_availability")
        assert_accessible(page, "the where-to-go step")
        page.get_by_role("button", name="Ответить и закрыть").click()
        expect(page.locator(".notice")).to_contain_text("Обратившемуся сообщено, куда обратиться")
        expect(page.locator("#thread")).to_contain_text(ANSWER)
        assert_accessible(page, "the appeal answered with where to go, at 360 px")
    finally:
        context.close()
    sent = telegram.sent(ANSWER)
    assert sent["chat_id"] in (CHAT_ID, str(CHAT_ID))
    assert not telegram.fake.refused  # every request was in Telegram's format
    assert not [url for url in urls if TOKEN_IN_URL.search(url)]
