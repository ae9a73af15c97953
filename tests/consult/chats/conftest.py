"""Khabarovsk's medical chat: a polyclinic of region 27 (UTC+10, open Mon-Sat 08:00-20:00) on
the territory map, its operator, the Telegram bot `khabarovsk` bound to the city's territory,
a loopback "Telegram" the bot's replies reach, consult's own API client for the directory,
and a clock the tests move by hand."""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Actor, Stack, running_stack
from tests.consult.chats.telegram_server import SECRET, TOKEN, FakeTelegram, update
from tests.scheduling.conftest import Clock
from tests.servers import serve

CONSULT = "/api/consult"
ZONE = "Asia/Vladivostok"
KHABAROVSK = "08701000"  # the city's OKTMO code
BOT = "khabarovsk"
WEBHOOK = f"{CONSULT}/channels/telegram/{BOT}"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Monday 20 October 2025, 10:00 in Khabarovsk: the chat is open.
OPEN = datetime(2025, 10, 20, 0, 0, tzinfo=UTC)


def bot_settings(api_base: str) -> dict[str, Any]:
    """Consult's settings for the loopback bot; the courier looks every 0.1 s, and updates
    past the retention are forgotten within 0.2 s."""
    return {
        "chat_bots": {BOT: {"token": TOKEN, "secret_token": SECRET}},
        "telegram_api_base": api_base,
        "chat_poll_interval_seconds": 0.1,
        "chat_update_prune_interval_seconds": 0.2,
        "appeal_escalation_interval_seconds": 3600.0,
    }


async def chat_client(stack: Stack, organization: dict[str, Any], var_dir: Path) -> None:
    """Registers the API client consult reads the directory as when a chat writes, where consult
    looks for it (as `telemed seed --demo` does)."""
    assert stack.admin is not None
    created = await stack.client.post(
        "/api/directory/api-clients",
        json={"name": "consult chats", "organization_id": organization["id"], "scopes": []},
        headers=stack.admin.headers,
    )
    assert created.status_code == 201, created.text
    path = var_dir / "consult" / "chat_client.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    body = created.json()
    path.write_text(
        json.dumps({"client_id": body["client_id"], "client_secret": body["client_secret"]})
    )


@dataclass
class Chat:
    stack: Stack
    clock: Clock
    telegram: FakeTelegram
    polyclinic: dict[str, Any]
    operator: Actor
    far_operator: Actor  # Kuzbass's: another region

    @property
    def client(self) -> httpx.AsyncClient:
        return self.stack.client

    async def deliver(
        self, update_id: int, text: str | None = "Здравствуйте!", *, secret: str | None = SECRET,
        **fields: Any,
    ) -> httpx.Response:  # fmt: skip
        """Posts an update to the webhook as Telegram does."""
        headers = {} if secret is None else {SECRET_HEADER: secret}
        return await self.client.post(
            WEBHOOK, json=update(update_id, text, **fields), headers=headers
        )

    async def delivered(self, update_id: int, text: str = "Здравствуйте!", **fields: Any) -> Any:
        response = await self.deliver(update_id, text, **fields)
        assert response.status_code == 200, response.text
        return response.json()

    async def thread(self, appeal_id: str, actor: Actor | None = None) -> list[dict[str, Any]]:
        response = await self.client.get(
            f"{CONSULT}/appeals/{appeal_id}/messages", headers=(actor or self.operator).headers
        )
        assert response.status_code == 200, response.text
        messages: list[dict[str, Any]] = response.json()
        return messages

    def wake(self) -> None:
        self.stack.apps["consult"].state.wake_outbound()


@pytest.fixture
async def telegram() -> AsyncIterator[tuple[FakeTelegram, str]]:
    fake = FakeTelegram()
    async with serve(fake.app()) as url:
        yield fake, url


@pytest.fixture
async def stack(
    clean_databases: dict[str, str], tmp_path: Path, telegram: tuple[FakeTelegram, str]
) -> AsyncIterator[Stack]:
    overrides = {"consult": bot_settings(telegram[1])}
    async with running_stack(clean_databases, tmp_path, overrides) as running:
        yield running


@pytest.fixture
async def chat(stack: Stack, telegram: tuple[FakeTelegram, str], tmp_path: Path) -> Chat:
    clock = Clock(OPEN)
    stack.apps["consult"].state.clock = clock
    polyclinic = await stack.organization(kind="polyclinic", region="27", timezone=ZONE)
    kuzbass = await stack.organization(kind="polyclinic", region="42")
    await chat_client(stack, polyclinic, tmp_path)
    chat = Chat(
        stack=stack,
        clock=clock,
        telegram=telegram[0],
        polyclinic=polyclinic,
        operator=await stack.actor("coordinator", polyclinic),
        far_operator=await stack.actor("coordinator", kuzbass),
    )
    mapped = await stack.client.put(
        f"{CONSULT}/appeal-territories/27/{KHABAROVSK}",
        json={"name": "Khabarovsk city district", "organization_id": polyclinic["id"]},
        headers=chat.operator.headers,
    )
    assert mapped.status_code == 200, mapped.text
    bound = await stack.client.put(
        f"{CONSULT}/chat-bindings/{BOT}/*",
        json={"name": "Khabarovsk medical chat", "region": "27", "territory": KHABAROVSK},
        headers=chat.operator.headers,
    )
    assert bound.status_code == 200, bound.text
    return chat
