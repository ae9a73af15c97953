"""The channels against real servers on loopback: email as an SMTP server receives it, SMS as
SMSC's API receives it, and which failures are worth a retry."""

import uuid
from collections.abc import AsyncIterator, Mapping

import httpx
import pytest

from gateway.notify.channels import Outgoing, SendError
from gateway.notify.email import EmailSender
from gateway.notify.enums import Channel, Template
from gateway.notify.settings import NotifySettings
from gateway.notify.sms import ERRORS, SmscSender
from gateway.notify.templates import render
from tests.notify.conftest import (
    CASE,
    RESET,
    SMSC_LOGIN,
    SMSC_PASSWORD,
    VISIT,
    Mailbox,
    Smsc,
)
from tests.servers import free_port, silent_server

UNSUBSCRIBE = "https://telemed.example.org/notify/unsubscribe?token=abc.def"


def email_settings(port: int, **more: object) -> NotifySettings:
    values: dict[str, object] = {
        "smtp_port": port,
        "smtp_from_address": "noreply@telemed.example.org",
        "smtp_from_name": "Телемедицина Кузбасса",
        "smtp_timeout": 2.0,
    }
    return NotifySettings.model_validate(values | more)


def outgoing(
    template: Template,
    params: Mapping[str, object],
    *,
    channel: Channel = Channel.EMAIL,
    address: str = "anna@example.org",
    language: str = "ru",
    unsubscribe: str | None = None,
) -> Outgoing:
    rendered = render(
        template, channel, language, params, recipient_name="Анна Иванова",
        unsubscribe_url=unsubscribe,
    )  # fmt: skip
    return Outgoing(uuid.uuid4(), address, "Анна Иванова", rendered)


async def test_an_email_arrives_as_a_proper_mime_message(mailbox: Mailbox) -> None:
    sender = EmailSender(email_settings(mailbox.port))
    case = outgoing(Template.CASE_CONCLUSION_READY, CASE, unsubscribe=UNSUBSCRIBE)
    provider_id = await sender.send(case)

    (received,) = mailbox.messages
    assert provider_id == f"<{case.delivery_id}@telemed.example.org>"
    assert received["Message-ID"] == provider_id
    assert received["Subject"] == "Готово заключение консультации (cardiology)"
    assert received["From"].addresses[0].display_name == "Телемедицина Кузбасса"
    assert received["From"].addresses[0].addr_spec == "noreply@telemed.example.org"
    assert received["To"].addresses[0].addr_spec == "anna@example.org"
    assert received["To"].addresses[0].display_name == "Анна Иванова"
    assert received["Auto-Submitted"] == "auto-generated"
    assert received["Content-Language"] == "ru"
    assert received["X-Telemed-Template"] == "case.conclusion_ready"
    assert received["List-Unsubscribe"].strip() == f"<{UNSUBSCRIBE}>"  # may come folded
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert received["Date"] is not None
    assert received.get_content_type() == "text/plain"
    body = received.get_content()
    assert CASE["case_link"] in body
    assert body.startswith("Здравствуйте, Анна Иванова!")

    # An account message carries no unsubscribe header: it cannot be opted out of.
    await sender.send(outgoing(Template.ACCOUNT_PASSWORD_RESET, RESET, language="en"))
    reset = mailbox.messages[1]
    assert reset["List-Unsubscribe"] is None
    assert reset["Content-Language"] == "en"
    assert RESET["link"] in reset.get_content()


async def test_the_same_delivery_has_the_same_message_id_on_every_attempt(
    mailbox: Mailbox,
) -> None:
    sender = EmailSender(email_settings(mailbox.port))
    visit = outgoing(Template.VISIT_INVITATION, VISIT)
    await sender.send(visit)
    await sender.send(visit)
    first, again = mailbox.messages
    assert (
        first["Message-ID"] == again["Message-ID"] == f"<{visit.delivery_id}@telemed.example.org>"
    )


async def test_smtp_4xx_and_a_server_away_are_retried_5xx_is_not(mailbox: Mailbox) -> None:
    sender = EmailSender(email_settings(mailbox.port))
    visit = outgoing(Template.VISIT_REMINDER_DAY, VISIT)
    mailbox.replies = ["451 4.3.0 Mail server temporarily busy", "550 5.1.1 No such user"]
    with pytest.raises(SendError, match="451") as busy:
        await sender.send(visit)
    assert busy.value.retry
    with pytest.raises(SendError, match="550") as refused:
        await sender.send(visit)
    assert not refused.value.retry

    nobody = EmailSender(email_settings(free_port()))
    with pytest.raises(SendError) as away:
        await nobody.send(visit)
    assert away.value.retry
    async with silent_server() as url:  # accepts the connection, never greets
        hung = EmailSender(email_settings(int(url.rsplit(":", 1)[1]), smtp_timeout=0.5))
        with pytest.raises(SendError) as slow:
            await hung.send(visit)
        assert slow.value.retry
    assert len(mailbox.messages) == 0


async def test_an_address_that_is_not_one_fails_for_good(mailbox: Mailbox) -> None:
    sender = EmailSender(email_settings(mailbox.port))
    with pytest.raises(SendError) as bad:
        await sender.send(
            outgoing(Template.VISIT_CANCELLED, VISIT, address="anna@example.org\r\nBcc: x@y")
        )
    assert not bad.value.retry
    assert mailbox.messages == []


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=2.0) as client:
        yield client


def sms_settings(smsc: Smsc, **more: object) -> NotifySettings:
    values: dict[str, object] = {
        "sms_provider": "smsc",
        "sms_base_url": smsc.base_url,
        "sms_login": SMSC_LOGIN,
        "sms_password": SMSC_PASSWORD,
        "sms_sender": "Telemed",
    }
    return NotifySettings.model_validate(values | more)


async def test_an_sms_is_smscs_send_request(smsc: Smsc, http: httpx.AsyncClient) -> None:
    sender = SmscSender(sms_settings(smsc), http)
    visit = outgoing(
        Template.VISIT_INVITATION, VISIT, channel=Channel.SMS, address="+7 (913) 123-45-67"
    )
    assert await sender.send(visit) == "1001"
    (sms,) = smsc.received
    assert sms == {
        "login": SMSC_LOGIN,
        "psw": SMSC_PASSWORD,
        "phones": "79131234567",
        "mes": visit.rendered.text,
        "sender": "Telemed",
        "charset": "utf-8",
        "fmt": "3",
    }
    assert sms["mes"] == f"Видеоприём 08.12 в 14:30 (UTC+7): {VISIT['join_link']}"


async def test_smsc_error_codes_decide_between_retry_and_failure(
    smsc: Smsc, http: httpx.AsyncClient
) -> None:
    sender = SmscSender(sms_settings(smsc), http)
    visit = outgoing(Template.VISIT_CANCELLED, VISIT, channel=Channel.SMS, address="79131234567")
    for code, (retry, meaning) in ERRORS.items():
        smsc.errors = [code]
        with pytest.raises(SendError) as failed:
            await sender.send(visit)
        assert failed.value.retry is retry, code
        assert f"SMSC error {code}: {meaning}" in failed.value.detail
    assert [code for code, (retry, _) in ERRORS.items() if not retry] == [1, 5, 6, 7, 8]

    smsc.errors = [503]
    with pytest.raises(SendError, match="HTTP 503") as busy:
        await sender.send(visit)
    assert busy.value.retry
    wrong_login = SmscSender(sms_settings(smsc, sms_password="wrong"), http)
    with pytest.raises(SendError, match="SMSC error 2") as login:
        await wrong_login.send(visit)
    assert login.value.retry  # the operator fixes the password; the SMS waits meanwhile
    away = SmscSender(sms_settings(smsc, sms_base_url=f"http://127.0.0.1:{free_port()}"), http)
    with pytest.raises(SendError) as unreachable:
        await away.send(visit)
    assert unreachable.value.retry
    assert smsc.received == []
    assert await sender.send(visit) == "1001"
