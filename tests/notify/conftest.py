"""Notify test kit: a real SMTP server (aiosmtpd) and an SMSC-speaking HTTP server on loopback,
a stack whose gateway sends to them with fast timings, people with contacts, and messages made
through `enqueue` as the producers make them."""

import asyncio
import contextlib
import email
import email.policy
import itertools
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select, update
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.models import User, kernel_tables
from gateway.notify.enums import Template
from gateway.notify.outbox import enqueue
from services.common.db import Database
from tests.conftest import Actor, Stack, running_stack
from tests.servers import serve
from tests.webhooks.receiver import eventually

NOTIFY = "/api/notify"
SMSC_LOGIN, SMSC_PASSWORD = "telemed-test", "smsc secret"
# Seconds where production has minutes and hours, so retries and give-ups fit in a test.
FAST_NOTIFY: dict[str, Any] = {
    "notify_poll_interval": 0.05,
    "notify_backoff_base": 0.2,
    "notify_backoff_cap": 1.0,
    "notify_backoff_jitter": 0.1,
    "notify_give_up_after": 60.0,
    # The loopback mail server shares the stack's event loop: on a loaded machine a short
    # time-out can fire after it accepted a message, and the (correct) retry delivers it
    # twice with one Message-ID, which tests counting arrivals would take for a duplicate.
    "smtp_timeout": 10.0,
    "sms_timeout": 10.0,
    "public_url": "https://telemed.example.org",
}
VISIT = {
    "start": "2026-12-08T07:30:00Z",
    "timezone": "Asia/Novokuznetsk",
    "visit_type": "remote",
    "organization_name": "ГБУЗ «Новокузнецкая городская больница № 1»",
    "practitioner_name": "Соколова Елена Викторовна",
    "join_link": "https://telemed.example.org/j/AbCdEfGhIjKlMnOpQrStUv",
}
CASE = {
    "case_id": "0b9c1f1e-7d5e-4e0b-9a39-3b7c5b7f6c11",
    "case_link": "https://telemed.example.org/cases/0b9c1f1e-7d5e-4e0b-9a39-3b7c5b7f6c11",
    "specialty": "cardiology",
}
RESET: dict[str, Any] = {
    "link": "https://telemed.example.org/account/password?token=Zm9vYmFyYmF6cXV4",
    "valid_hours": 24,
}


@dataclass
class Mailbox:
    """An SMTP server on loopback: keeps every message it accepts; answers DATA with each of
    `replies` in turn first (`451 ...` to make the sender retry, `550 ...` to refuse)."""

    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    _server: asyncio.Server | None = None

    async def handle_DATA(  # noqa: N802 - the name aiosmtpd calls
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        if self.replies:
            return self.replies.pop(0)
        assert isinstance(envelope.content, bytes)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 2.0.0 Accepted"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(self, hostname="mailbox.test", loop=loop), "127.0.0.1", self.port
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages if address in str(message["To"])]


@dataclass
class Smsc:
    """SMSC.ru's `POST /sys/send.php` on loopback: checks the login, keeps each SMS, answers
    each of `errors` (an SMSC error code, or an HTTP status from 500) in turn first."""

    base_url: str = ""
    received: list[dict[str, str]] = field(default_factory=list)
    errors: list[int] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1001))

    async def _send(self, request: Request) -> Response:
        form = {key: str(value) for key, value in (await request.form()).items()}
        if form.get("login") != SMSC_LOGIN or form.get("psw") != SMSC_PASSWORD:
            return JSONResponse({"error": "authorise error", "error_code": 2})
        if self.errors:
            code = self.errors.pop(0)
            if code >= 500:
                return Response("busy", status_code=code)
            return JSONResponse({"error": f"error {code}", "error_code": code})
        self.received.append(form)
        return JSONResponse({"id": next(self._ids), "cnt": 1})

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator["Smsc"]:
        app = Starlette(routes=[Route("/sys/send.php", self._send, methods=["POST"])])
        async with serve(app) as base_url:
            self.base_url = base_url
            yield self

    def to(self, phone_digits: str) -> list[dict[str, str]]:
        return [sms for sms in self.received if sms["phones"] == phone_digits]


def notify_settings(mailbox_port: int, smsc: Smsc | None = None, **more: Any) -> dict[str, Any]:
    sms = (
        {
            "sms_provider": "smsc",
            "sms_base_url": smsc.base_url,
            "sms_login": SMSC_LOGIN,
            "sms_password": SMSC_PASSWORD,
            "sms_sender": "Telemed",
        }
        if smsc
        else {}
    )
    return FAST_NOTIFY | {"smtp_port": mailbox_port} | sms | more


@pytest.fixture
async def mailbox() -> AsyncIterator[Mailbox]:
    box = Mailbox()
    await box.start()
    yield box
    await box.stop()


@pytest.fixture
async def smsc() -> AsyncIterator[Smsc]:
    async with Smsc().running() as running:
        yield running


@contextlib.asynccontextmanager
async def notify_stack(urls: dict[str, str], var_dir: Path, **gateway: Any) -> AsyncIterator[Stack]:
    async with running_stack(urls, var_dir, {"gateway": gateway}) as stack:
        yield stack


@pytest.fixture
async def stack_notify(
    clean_databases: dict[str, str], tmp_path: Path, mailbox: Mailbox, smsc: Smsc
) -> AsyncIterator[Stack]:
    """The stack, sending email to `mailbox` and SMS to `smsc`."""
    settings = notify_settings(mailbox.port, smsc)
    async with notify_stack(clean_databases, tmp_path, **settings) as stack:
        yield stack


@pytest.fixture
async def quiet(
    clean_databases: dict[str, str], tmp_path: Path, mailbox: Mailbox
) -> AsyncIterator[Stack]:
    """A stack whose own courier looks once an hour: only what the tests wake or claim runs."""
    settings = notify_settings(mailbox.port, notify_poll_interval=3600)
    async with notify_stack(clean_databases, tmp_path, **settings) as stack:
        yield stack


@dataclass
class Person:
    actor: Actor
    email: str | None
    phone: str | None
    language: str

    @property
    def id(self) -> uuid.UUID:
        return self.actor.id


async def person(
    stack: Stack,
    role: str = "patient",
    *,
    email: str | None = None,
    phone: str | None = None,
    language: str = "ru",
    organization: dict[str, Any] | None = None,
) -> Person:
    """A signed-in user with the contacts given, as the directory keeps them."""
    actor = await stack.actor(role, organization)
    database: Database = stack.apps["gateway"].state.database
    async with database.sessionmaker.begin() as session:
        await session.execute(
            update(User)
            .where(User.id == actor.id)
            .values(email=email, phone=phone, language=language)
        )
    return Person(actor, email, phone, language)


async def tell(
    stack: Stack,
    recipient: uuid.UUID,
    template: Template,
    params: dict[str, Any],
    key: str | None = None,
    *,
    wake: bool = True,
) -> bool:
    """Enqueues a message as a producer does, in a transaction of the gateway's database, and
    (with `wake`) has the courier look at once rather than at its next poll."""
    gateway = stack.apps["gateway"]
    async with gateway.state.database.sessionmaker.begin() as session:
        written = await enqueue(
            session,
            recipient_id=recipient,
            template=template,
            params=params,
            key=key or uuid.uuid4().hex,
        )
    if wake:
        gateway.state.notify_courier.wake()
    return written


async def messages(stack: Stack, actor: Actor, **params: Any) -> list[dict[str, Any]]:
    response = await stack.client.get(f"{NOTIFY}/messages", params=params, headers=actor.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def detail(stack: Stack, actor: Actor, message_id: str) -> dict[str, Any]:
    response = await stack.client.get(f"{NOTIFY}/messages/{message_id}", headers=actor.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def settled(stack: Stack, count: int, within: float = 15.0) -> list[dict[str, Any]]:
    """Every message in the log (newest first) once `count` are no longer pending."""
    assert stack.admin is not None
    admin = stack.admin

    def done(items: list[dict[str, Any]]) -> bool:
        return len([item for item in items if item["status"] != "pending"]) >= count

    return await eventually(lambda: messages(stack, admin), done, within)


async def audited(stack: Stack, action: str) -> list[tuple[str, str | None, str | None]]:
    """(outcome, actor, resource id) of the gateway's audit records of `action`, in order."""
    records = kernel_tables.audit.records
    query = (
        select(records.c.outcome, records.c.actor_id, records.c.resource_id)
        .where(records.c.action == action)
        .order_by(records.c.id)
    )
    database: Database = stack.apps["gateway"].state.database
    async with database.engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(query)]
