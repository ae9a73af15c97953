"""Email over SMTP (aiosmtplib): one plain-text MIME message per delivery.

The Message-ID is the delivery's id, so a message sent again after a crash mid-send (its lease
ran out) reaches the mailbox with the same Message-ID, which receivers use to drop duplicates.
"""

import uuid
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from gateway.notify.channels import Outgoing, SendError
from gateway.notify.settings import NotifySettings

TEMPLATE_HEADER = "X-Telemed-Template"  # lets mail rules, and the demo, tell messages apart


def message_id(delivery_id: uuid.UUID, from_address: str) -> str:
    domain = from_address.rpartition("@")[2] or "telemed.localhost"
    return f"<{delivery_id}@{domain}>"


def compose(outgoing: Outgoing, settings: NotifySettings) -> EmailMessage:
    rendered = outgoing.rendered
    message = EmailMessage()
    try:
        message["From"] = Address(settings.smtp_from_name, addr_spec=settings.smtp_from_address)
        message["To"] = Address(outgoing.recipient_name, addr_spec=outgoing.address)
    except (ValueError, IndexError) as exc:  # the header parser's ways of refusing an address
        raise SendError(f"not an email address: {exc}", retry=False) from exc
    message["Subject"] = rendered.subject or ""
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id(outgoing.delivery_id, settings.smtp_from_address)
    # RFC 3834: no vacation or out-of-office replies to an automatic message.
    message["Auto-Submitted"] = "auto-generated"
    message[TEMPLATE_HEADER] = rendered.template.value
    if rendered.unsubscribe_url:
        # RFC 2369 and RFC 8058: mail clients offer a one-click unsubscribe button.
        message["List-Unsubscribe"] = f"<{rendered.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(rendered.text)
    message["Content-Language"] = rendered.language  # after the content, which clears Content-*
    return message


def _failure(exc: aiosmtplib.SMTPException) -> SendError:
    """4xx and a lost connection or time-out are passing; 5xx is final. A refused login or
    TLS the server lacks are the operator's to fix, so those messages wait for them."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [refused.code for refused in exc.recipients]
        retry = any(400 <= code < 500 for code in codes)
        return SendError(f"recipient refused: {exc.recipients[0].message}", retry=retry)
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return SendError(f"SMTP login refused ({exc.code}): {exc.message}", retry=True)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return SendError(f"SMTP {exc.code}: {exc.message}", retry=not 500 <= exc.code < 600)
    return SendError(f"{type(exc).__name__}: {exc}", retry=True)


class EmailSender:
    def __init__(self, settings: NotifySettings) -> None:
        self.settings = settings

    async def send(self, outgoing: Outgoing) -> str:
        settings = self.settings
        message = compose(outgoing, settings)
        try:
            await aiosmtplib.send(
                message,
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                username=settings.smtp_username or None,
                password=settings.smtp_password.get_secret_value() or None,
                use_tls=settings.smtp_security == "tls",
                start_tls=settings.smtp_security == "starttls",
                timeout=settings.smtp_timeout,
            )
        except aiosmtplib.SMTPException as exc:
            raise _failure(exc) from exc
        except OSError as exc:  # refused or unreachable before aiosmtplib wraps it
            raise SendError(f"{type(exc).__name__}: {exc}", retry=True) from exc
        return str(message["Message-ID"])
