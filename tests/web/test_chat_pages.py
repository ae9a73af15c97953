"""The chat's screens in process, against a loopback "Telegram": a chat appeal's conversation on
its page (polled for what is new, the polls that find nothing unaudited; a reply's sending
updated in place), a reply that reaches the chat, the "where to go" step answering in the
organisation's own Russian words, and the where-to-go answers' editor (the built-in answers
shown, a formulaic answer's reason said inline, back to the built-in); a forged form, another
region's coordinator and an unknown organisation refused."""

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from services.consult.appeals.enums import AnswerLanguage, RedirectTopic
from services.consult.appeals.settings import DEFAULT_REDIRECT_ANSWERS
from services.consult.db import KERNEL_TABLES
from tests.conftest import Actor, Stack, running_stack
from tests.consult.chats.conftest import (
    BOT,
    KHABAROVSK,
    OPEN,
    SECRET_HEADER,
    WEBHOOK,
    ZONE,
    bot_settings,
    chat_client,
)
from tests.consult.chats.telegram_server import SECRET, TOKEN, FakeTelegram, update
from tests.scheduling.conftest import Clock
from tests.servers import serve
from tests.web.conftest import Console
from tests.web.test_appeal_pages import text_of

CONSULT = "/api/consult"
HX = {"HX-Request": "true"}
POLLS = 30  # five minutes of an open page
CHAT_ID = 5550001
QUESTION = "Есть ли в аптеках Хабаровска инсулин гларгин?"
OWN_ANSWER = (
    "Наличие инсулина гларгин в аптеках Хабаровска подскажет краевая справочная о лекарствах: "
    "8 (4212) 40-00-00, с 8 до 20 без выходных. Если его нет, замену подберёт ваш врач."
)
BUILT_IN_RU = DEFAULT_REDIRECT_ANSWERS[AnswerLanguage.RU][RedirectTopic.MEDICINE_AVAILABILITY]
BUILT_IN_EN = DEFAULT_REDIRECT_ANSWERS[AnswerLanguage.EN][RedirectTopic.MEDICINE_AVAILABILITY]


def cursor(html: str) -> int:
    """The last message id the page (or a poll's answer, moving it on) says it shows."""
    found = re.search(r'<input type="hidden" id="thread-after" name="after" value="(\d+)"', html)
    assert found, html
    return int(found.group(1))


async def until(condition: Callable[[], bool], within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - the loopback server's list, not an event
            await asyncio.sleep(0.02)


@pytest.fixture
async def telegram() -> AsyncIterator[tuple[FakeTelegram, str]]:
    fake = FakeTelegram()
    async with serve(fake.app()) as url:
        yield fake, url


@pytest.fixture
async def stack(
    clean_databases: dict[str, str], tmp_path: Path, telegram: tuple[FakeTelegram, str]
) -> AsyncIterator[Stack]:
    async with running_stack(
        clean_databases, tmp_path, {"consult": bot_settings(telegram[1])}
    ) as running:
        yield running


class Desk:
    """Khabarovsk's chat desk: its polyclinic on the map, the bot bound to the city, its
    coordinator, and Kuzbass's coordinator (another region) beside."""

    def __init__(
        self,
        console: Console,
        telegram: FakeTelegram,
        polyclinic: dict[str, Any],
        operator: Actor,
        far_operator: Actor,
    ) -> None:
        self.console, self.telegram = console, telegram
        self.polyclinic, self.operator, self.far_operator = polyclinic, operator, far_operator

    @property
    def client(self) -> httpx.AsyncClient:
        return self.console.stack.client

    @asynccontextmanager
    async def browser(
        self, actor: Actor | None = None, language: str = "en"
    ) -> AsyncIterator[httpx.AsyncClient]:
        async with self.console.browser(language) as browser:
            signed = await self.console.sign_in(browser, (actor or self.operator).username)
            assert signed.status_code == 303, signed.text
            page = await self.console.page(browser, "/profile")
            await self.console.post(browser, page, "/language", language=language)
            yield browser

    async def ask(self, update_id: int, text: str = QUESTION) -> str:
        """A chat message posted to the webhook as Telegram does; the appeal it is on."""
        response = await self.client.post(
            WEBHOOK, json=update(update_id, text, chat_id=CHAT_ID), headers={SECRET_HEADER: SECRET}
        )
        assert response.status_code == 200, response.text
        appeal_id: str = response.json()["appeal_id"]
        return appeal_id

    async def appeal(self, appeal_id: str) -> Any:
        response = await self.client.get(
            f"{CONSULT}/appeals/{appeal_id}", headers=self.operator.headers
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def settled(self, appeal_id: str) -> None:
        """Telegram has the last reply before the courier records it so: waits for that."""
        url = f"{CONSULT}/appeals/{appeal_id}/messages"

        async def pending() -> bool:
            thread = (await self.client.get(url, headers=self.operator.headers)).json()
            return bool(thread[-1]["delivery"]["status"] == "pending")

        async with asyncio.timeout(10):
            while await pending():  # noqa: ASYNC110 - polled through the API
                await asyncio.sleep(0.05)

    async def sent(self, text: str) -> dict[str, Any]:
        """The sendMessage the loopback Telegram accepted with this text."""
        self.console.stack.apps["consult"].state.wake_outbound()
        await until(lambda: any(each["text"] == text for each in self.telegram.sent))
        (body,) = [each for each in self.telegram.sent if each["text"] == text]
        return body


@pytest.fixture
async def desk(
    stack: Stack, console: Console, telegram: tuple[FakeTelegram, str], tmp_path: Path
) -> Desk:
    stack.apps["consult"].state.clock = Clock(OPEN)  # Monday 10:00 in Khabarovsk: open
    polyclinic = await stack.organization(kind="polyclinic", region="27", timezone=ZONE)
    kuzbass = await stack.organization(kind="polyclinic", region="42")
    await chat_client(stack, polyclinic, tmp_path)
    operator = await stack.actor("coordinator", polyclinic)
    for path, body in (
        (f"/appeal-territories/27/{KHABAROVSK}",
         {"name": "Хабаровск", "organization_id": polyclinic["id"]}),
        (f"/chat-bindings/{BOT}/*",
         {"name": "Khabarovsk medical chat", "region": "27", "territory": KHABAROVSK}),
    ):  # fmt: skip
        response = await stack.client.put(f"{CONSULT}{path}", json=body, headers=operator.headers)
        assert response.status_code == 200, response.text
    far_operator = await stack.actor("coordinator", kuzbass)
    return Desk(console, telegram[0], polyclinic, operator, far_operator)


async def test_the_conversation_is_shown_and_a_reply_reaches_the_chat(desk: Desk) -> None:
    appeal_id = await desk.ask(1)
    async with desk.browser() as browser:
        page = await desk.console.page(browser, f"/appeals/{appeal_id}")
        assert QUESTION in page.text
        assert "No messages after the appeal's first text yet." in page.text
        assert 'hx-get="/appeals/' + appeal_id + '/thread"' in page.text  # refreshed while open
        assert cursor(page.text) == 0  # it shows the first text alone
        assert await desk.ask(2, "Нужен для мамы, 72 года.") == appeal_id
        fragment = await browser.get(f"/appeals/{appeal_id}/thread?after=0", headers=HX)
        assert fragment.status_code == 200
        assert "<html" not in fragment.text
        assert "Нужен для мамы, 72 года." in fragment.text
        assert "Ирина Ковалёва" in fragment.text  # the sender as the chat names her
        assert QUESTION not in fragment.text  # what the page has is not sent again
        assert cursor(fragment.text) > 0
        assert '<p id="thread-empty" hx-swap-oob="delete">' in fragment.text
        empty = await desk.console.post(browser, page, f"/appeals/{appeal_id}/reply", text="")
        assert empty.status_code == 422
        assert 'id="text-error"' in empty.text
        reply = "Уточняем наличие в аптеках города, ответим в течение часа."
        sent = await desk.console.post(browser, page, f"/appeals/{appeal_id}/reply", text=reply)
        assert sent.status_code == 303
        assert sent.headers["location"] == f"/appeals/{appeal_id}?saved=reply#thread-heading"
        body = await desk.sent(reply)
        assert body["chat_id"] in (CHAT_ID, str(CHAT_ID))
        await desk.settled(appeal_id)
        after = await desk.console.page(browser, sent.headers["location"])
    shown = text_of(after.text)
    assert "Your reply is sent." in shown
    assert reply in shown
    assert "delivered to the chat" in shown
    thread = re.search(r'<section id="thread".*?</section>', after.text, re.S)
    assert thread
    assert "an operator" not in thread.group(0)  # the reply is signed with its author's name


async def test_the_conversation_polls_for_news_alone_and_audits_only_new_words(
    desk: Desk,
) -> None:
    """A page left open asks every 10 s; the asks that find nothing write no audit record and
    never read the appeal again; a reply waiting on a refused bot token says so in place, then
    that it was delivered; a closed appeal's answer tells htmx to stop asking (286)."""
    stack = desk.console.stack
    records = KERNEL_TABLES.audit.records
    appeal_id = await desk.ask(11)

    async def audited() -> dict[str, int]:
        """The appeal's audited reads, by action."""
        query = (
            select(records.c.action, func.count())
            .where(
                records.c.resource_id == appeal_id,
                records.c.outcome == "success",
                records.c.action.in_(["appeal.read", "appeal.thread.read"]),
            )
            .group_by(records.c.action)
        )
        async with stack.apps["consult"].state.database.sessionmaker() as session:
            rows = await session.execute(query)
            return {str(action): int(count) for action, count in rows}

    async with desk.browser() as browser:

        async def poll(after: int) -> httpx.Response:
            response = await browser.get(f"/appeals/{appeal_id}/thread?after={after}", headers=HX)
            assert response.status_code in (200, 286), response.text
            return response

        page = await desk.console.page(browser, f"/appeals/{appeal_id}")
        viewed = await audited()
        for _ in range(POLLS):
            assert "<li" not in (await poll(cursor(page.text))).text
        assert await audited() == viewed  # neither the appeal nor its thread read again
        await desk.ask(12, "Нужен для мамы, 72 года.")
        news = await poll(0)
        assert "Нужен для мамы, 72 года." in news.text
        read = await audited()
        assert read["appeal.thread.read"] == viewed["appeal.thread.read"] + 1  # the new words
        assert read["appeal.read"] == viewed["appeal.read"]

        desk.telegram.token = "7000000001:rotated-at-botfather"  # Telegram refuses ours now
        text = "Уточняем наличие в аптеках города."
        sent = await desk.console.post(browser, page, f"/appeals/{appeal_id}/reply", text=text)
        assert sent.status_code == 303
        page = await desk.console.page(browser, sent.headers["location"])
        after = cursor(page.text)
        stack.apps["consult"].state.wake_outbound()
        span = f'<span id="sending-{after}" hx-swap-oob="true">'
        async with asyncio.timeout(10):
            while "trying again" not in (waiting := (await poll(after)).text):  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        assert span in waiting
        assert "Telegram refuses the bot&#39;s token" in waiting
        assert "<li" not in waiting  # the reply's sending alone, not its text again

        desk.telegram.token = TOKEN
        stack.apps["consult"].state.clock.now += timedelta(minutes=13)  # past the backoff
        await desk.sent(text)
        async with asyncio.timeout(10):  # Telegram has it; the courier settles it just after
            while "trying again" in (delivered := (await poll(after)).text):  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        assert span in delivered
        assert "delivered to the chat" in delivered
        closed = await desk.client.post(
            f"{CONSULT}/appeals/{appeal_id}/close", json={"reason": "A duplicate."},
            headers=desk.operator.headers,
        )  # fmt: skip
        assert closed.status_code == 200
        assert (await poll(after)).status_code == 286


async def test_the_answers_editor_shows_the_built_in_refuses_a_formula_and_resets(
    desk: Desk,
) -> None:
    polyclinic = desk.polyclinic["id"]
    form = f"/appeals/answers/{polyclinic}/medicine_availability/ru"
    async with desk.browser() as browser:
        chosen = await browser.get("/appeals/answers")
        assert chosen.status_code == 303
        assert chosen.headers["location"] == f"/appeals/answers/{polyclinic}"
        page = await desk.console.page(browser, chosen.headers["location"])
        assert desk.polyclinic["name"] in page.text
        assert BUILT_IN_RU in page.text
        assert BUILT_IN_EN in page.text
        assert page.text.count("The built-in answer: the organisation has not worded its own.") == 6
        assert "/reset" not in page.text  # nothing of its own to go back from
        formula = "Ваше обращение обработано, меры приняты."
        refused = await desk.console.post(browser, page, form, text=formula)
        assert refused.status_code == 422
        assert 'id="answer-medicine_availability-ru-error"' in refused.text
        assert "This answer only says that the appeal was processed" in refused.text
        assert f">{formula}</textarea>" in refused.text  # as typed, to correct
        assert 'aria-invalid="true"' in refused.text
        saved = await desk.console.post(browser, page, form, text=OWN_ANSWER)
        assert saved.status_code == 303
        worded = await desk.console.page(browser, saved.headers["location"])
        assert "The answer is saved: callers are told it from now on." in worded.text
        assert OWN_ANSWER in worded.text
        assert BUILT_IN_RU not in worded.text
        assert "The organisation's own answer, worded by" in text_of(worded.text)
        assert f'action="{form}/reset"' in worded.text
        stored = await desk.client.get(
            f"{CONSULT}/organizations/{polyclinic}/redirect-answers", headers=desk.operator.headers
        )
        own = [each for each in stored.json() if not each["built_in"]]
        assert [(each["topic"], each["language"], each["text"]) for each in own] == [
            ("medicine_availability", "ru", OWN_ANSWER)
        ]
        reset = await desk.console.post(browser, worded, f"{form}/reset")
        assert reset.status_code == 303
        again = await desk.console.page(browser, reset.headers["location"])
    assert "The built-in answer is given again." in again.text
    assert BUILT_IN_RU in again.text
    assert OWN_ANSWER not in again.text


async def test_the_redirect_step_answers_in_the_organisations_own_russian_words(
    desk: Desk,
) -> None:
    appeal_id = await desk.ask(5)
    polyclinic = desk.polyclinic["id"]
    async with desk.browser(language="ru") as browser:
        editor = await desk.console.page(browser, f"/appeals/answers/{polyclinic}")
        assert "Встроенный ответ" in editor.text
        path = f"/appeals/answers/{polyclinic}/medicine_availability/ru"
        saved = await desk.console.post(browser, editor, path, text=OWN_ANSWER)
        assert saved.status_code == 303
        page = await desk.console.page(browser, f"/appeals/{appeal_id}")
        assert 'action="/appeals/' + appeal_id + '/redirect"' in page.text
        answered = await desk.console.post(
            browser, page, f"/appeals/{appeal_id}/redirect", topic="medicine_availability"
        )
        assert answered.status_code == 303
        after = await desk.console.page(browser, answered.headers["location"])
    assert "Обратившемуся сообщено, куда обратиться." in after.text
    appeal = await desk.appeal(appeal_id)
    assert (appeal["status"], appeal["redirect_topic"]) == ("redirected", "medicine_availability")
    assert appeal["answer"] == OWN_ANSWER
    body = await desk.sent(OWN_ANSWER)
    assert body["chat_id"] in (CHAT_ID, str(CHAT_ID))
    assert OWN_ANSWER in text_of(after.text)


async def test_forged_forms_other_regions_and_unknown_organisations_are_refused(
    desk: Desk, console: Console
) -> None:
    appeal_id = await desk.ask(7)
    polyclinic = desk.polyclinic["id"]
    path = f"/appeals/answers/{polyclinic}/medicine_availability/ru"
    async with desk.browser() as browser:
        forged = await browser.post(path, data={"csrf_token": "forged", "text": OWN_ANSWER})
        assert forged.status_code == 403
        forged_reply = await browser.post(
            f"/appeals/{appeal_id}/reply", data={"csrf_token": "forged", "text": "Здравствуйте"}
        )
        assert forged_reply.status_code == 403
        editor = await desk.console.page(browser, f"/appeals/answers/{polyclinic}")
        bad = await desk.console.post(
            browser, editor, f"/appeals/answers/{polyclinic}/horoscopes/ru", text=OWN_ANSWER
        )
        assert bad.status_code == 400  # a topic consult does not have: no form sends it
    async with desk.browser(desk.far_operator) as far:
        assert (await far.get(f"/appeals/{appeal_id}")).status_code == 404
        assert (await far.get(f"/appeals/{appeal_id}/thread", headers=HX)).status_code == 404
        other = await far.get(f"/appeals/answers/{polyclinic}")
        assert other.status_code == 403
        moved = await far.get("/appeals/answers")
        assert moved.headers["location"] == f"/appeals/answers/{desk.far_operator.organization_id}"
        own = await desk.console.page(far, moved.headers["location"])
        assert desk.polyclinic["name"] not in own.text
        refused = await desk.console.post(far, own, path, text=OWN_ANSWER)
        assert refused.status_code == 403
        reply = await desk.console.post(far, own, f"/appeals/{appeal_id}/reply", text="Ответ")
        assert reply.status_code == 404
    stored = await desk.client.get(
        f"{CONSULT}/organizations/{polyclinic}/redirect-answers", headers=desk.operator.headers
    )
    assert all(each["built_in"] for each in stored.json())
    admin = console.stack.admin
    assert admin is not None
    async with desk.browser(admin) as browser:
        listed = await desk.console.page(browser, "/appeals/answers")
        assert f'href="/appeals/answers/{polyclinic}"' in listed.text
        assert (await browser.get(f"/appeals/answers/{polyclinic}")).status_code == 200
        nobody = await browser.get("/appeals/answers/8a4a3f0e-5f4c-4a4e-9d1e-000000000000")
        assert nobody.status_code == 404
    assert not desk.telegram.sent  # nothing was sent to the chat
