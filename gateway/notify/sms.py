"""SMS through SMSC.ru's HTTP API (https://smsc.ru/api/http/send/sms/).

One `POST <sms_base_url>/sys/send.php` per message, form-encoded: `login`, `psw`, `phones`
(digits, international format), `mes`, `sender` (when set), `charset=utf-8`, and `fmt=3` for a
JSON answer: `{"id": <message id>, "cnt": <messages>}` when accepted, or
`{"error": "<description>", "error_code": N}` when refused.

SMSC refuses an identical request within a minute (error 9), so an attempt whose answer was
lost and is repeated at once is not sent twice; the workers' backoff starts above that minute.
"""

import json
import re

import httpx

from gateway.notify.channels import Outgoing, SendError
from gateway.notify.settings import NotifySettings

SEND_PATH = "/sys/send.php"
# SMSC's error codes: whether the same message may go through later, and what the code means.
ERRORS: dict[int, tuple[bool, str]] = {
    1: (False, "error in the parameters"),
    2: (True, "wrong login or password, or the address is not allowed"),  # the operator's to fix
    3: (True, "not enough money on the account"),
    4: (True, "the IP address is blocked for a while after frequent errors"),
    5: (False, "wrong date format"),
    6: (False, "the message is forbidden (its text or sender name)"),
    7: (False, "wrong phone number format"),
    8: (False, "the message cannot be delivered to this number"),
    9: (True, "too many identical or concurrent requests"),
}
UNKNOWN = (True, "an unknown error")


def phone_digits(phone: str) -> str:
    """`+7 (913) 123-45-67` as SMSC takes it: `79131234567`."""
    return re.sub(r"\D", "", phone)


class SmscSender:
    def __init__(self, settings: NotifySettings, client: httpx.AsyncClient) -> None:
        self.settings = settings
        self.client = client

    def _form(self, outgoing: Outgoing) -> dict[str, str]:
        settings = self.settings
        form = {
            "login": settings.sms_login,
            "psw": settings.sms_password.get_secret_value(),
            "phones": phone_digits(outgoing.address),
            "mes": outgoing.rendered.text,
            "charset": "utf-8",
            "fmt": "3",
        }
        if settings.sms_sender:
            form["sender"] = settings.sms_sender
        return form

    async def send(self, outgoing: Outgoing) -> str:
        if not phone_digits(outgoing.address):
            raise SendError(f"not a phone number: {outgoing.address!r}", retry=False)
        url = self.settings.sms_base_url.rstrip("/") + SEND_PATH
        try:
            response = await self.client.post(url, data=self._form(outgoing))
        except httpx.HTTPError as exc:
            raise SendError(f"{type(exc).__name__}: {exc}", retry=True) from exc
        if response.status_code != 200:  # the provider's trouble or ours to fix, not the SMS's
            raise SendError(f"SMSC answered HTTP {response.status_code}", retry=True)
        try:
            answer = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise SendError("SMSC answered something other than JSON", retry=True) from exc
        if isinstance(answer, dict) and "error_code" in answer:
            code = answer["error_code"]
            retry, meaning = ERRORS.get(code if isinstance(code, int) else 0, UNKNOWN)
            raise SendError(
                f"SMSC error {code}: {meaning} ({answer.get('error', '')})", retry=retry
            )
        if isinstance(answer, dict) and answer.get("id") is not None:
            return str(answer["id"])
        raise SendError(f"SMSC answered without an id: {response.text[:200]}", retry=True)
