"""The local catcher of `telemed run --mail-catcher`: telemed's email and SMS land in files on
this machine instead of reaching anyone, for one-machine use and the demo.

Beside the services it runs, on 127.0.0.1 and ports of its own choosing (printed at start):
- an SMTP server (aiosmtpd) that accepts every message;
- an HTTP server speaking SMSC.ru's send API (`POST /sys/send.php`, as gateway/notify/sms.py
  calls it) that accepts every SMS;
and it points the gateway at both (its `TELEMED_GATEWAY_SMTP_*` and `..._SMS_*` environment).

Files, under `<var>/catcher/`, are named so that sorting by name is sorting by arrival
(`<UTC time as 20261208T143000.123456Z>-<sequence number>`), and each appears whole (written
aside, then renamed):
- `mail/<name>.eml`: the message exactly as the gateway sent it. Its `To` header is the
  recipient, `X-Telemed-Template` the template (`account.invitation`, `visit.reminder_day`, ...),
  and its text part holds the links; read it with the `email` package
  (`email.message_from_bytes(data, policy=email.policy.default).get_content()`), as the text
  may be quoted-printable or base64;
- `sms/<name>.json`: `{"received_at": ISO 8601, "id": the id answered, "phones": "79131234567",
  "mes": the text, "sender": the sender name or null}`.

The newest invitation to a person is the last `mail/*.eml` (by name) whose `X-Telemed-Template`
is `account.invitation` and whose `To` is their address.
"""

import asyncio
import itertools
import json
import os
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session

HOST = "127.0.0.1"
START_TIMEOUT = 10.0


class _Inbox:
    """Files in one folder, named in arrival order."""

    def __init__(self, folder: Path, suffix: str) -> None:
        self.folder = folder
        self.suffix = suffix
        self._numbers = itertools.count(1)
        folder.mkdir(parents=True, exist_ok=True)

    def store(self, content: Callable[[int], bytes]) -> int:
        """Writes what `content` makes of the file's sequence number; returns the number."""
        number = next(self._numbers)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        path = self.folder / f"{stamp}-{number:06d}{self.suffix}"
        staged = path.with_name(path.name + ".part")
        staged.write_bytes(content(number))
        os.replace(staged, path)
        return number


class _MailHandler:
    def __init__(self, inbox: _Inbox) -> None:
        self.inbox = inbox

    async def handle_DATA(  # noqa: N802 - the name aiosmtpd calls
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.original_content or envelope.content
        assert isinstance(content, bytes)  # aiosmtpd keeps bytes unless told to decode
        self.inbox.store(lambda _: content)
        return "250 2.0.0 Caught"


class Catcher:
    """Starts both servers in a thread of their own and stops them on exit."""

    def __init__(self, var_dir: Path) -> None:
        self.folder = var_dir / "catcher"
        self.mail = _Inbox(self.folder / "mail", ".eml")
        self.sms = _Inbox(self.folder / "sms", ".json")
        self.smtp_port = 0
        self.sms_port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="catcher", daemon=True)

    @property
    def sms_url(self) -> str:
        return f"http://{HOST}:{self.sms_port}"

    def gateway_env(self) -> dict[str, str]:
        """The gateway's settings that send everything here."""
        prefix = "TELEMED_GATEWAY_"
        return {
            prefix + "SMTP_HOST": HOST,
            prefix + "SMTP_PORT": str(self.smtp_port),
            prefix + "SMTP_SECURITY": "none",
            prefix + "SMTP_USERNAME": "",  # the catcher asks for no login
            prefix + "SMS_PROVIDER": "smsc",
            prefix + "SMS_BASE_URL": self.sms_url,
            prefix + "SMS_LOGIN": "catcher",
            prefix + "SMS_PASSWORD": "catcher",
        }

    def __enter__(self) -> "Catcher":
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT):
            raise RuntimeError("the catcher did not start")
        if self._failure is not None:
            raise RuntimeError(f"the catcher could not start: {self._failure}")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(START_TIMEOUT)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            smtp, runner = loop.run_until_complete(self._start())
        except Exception as exc:  # a port taken, a folder not writable: told to the caller
            self._failure = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            smtp.close()
            loop.run_until_complete(smtp.wait_closed())
            loop.run_until_complete(runner.cleanup())
            loop.close()

    async def _start(self) -> tuple[asyncio.Server, web.AppRunner]:
        handler, loop = _MailHandler(self.mail), asyncio.get_running_loop()
        smtp = await loop.create_server(
            lambda: SMTP(handler, hostname="catcher.localhost", loop=loop), HOST, 0
        )
        self.smtp_port = smtp.sockets[0].getsockname()[1]
        app = web.Application()
        app.router.add_route("*", "/sys/send.php", self._send_sms)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        listening = socket.create_server((HOST, 0))  # bound here, so its port is known
        self.sms_port = listening.getsockname()[1]
        await web.SockSite(runner, listening).start()
        return smtp, runner

    async def _send_sms(self, request: web.Request) -> web.Response:
        """SMSC's answer to an accepted message: `{"id": ..., "cnt": 1}` (with `fmt=3`)."""
        fields: dict[str, Any] = dict(request.query) | dict(await request.post())
        if not fields.get("phones") or not fields.get("mes"):
            return web.json_response({"error": "parameters", "error_code": 1})
        received_at = datetime.now(UTC).isoformat()

        def record(number: int) -> bytes:
            message = {
                "received_at": received_at,
                "id": number,
                "phones": str(fields["phones"]),
                "mes": str(fields["mes"]),
                "sender": fields.get("sender"),
            }
            return json.dumps(message, ensure_ascii=False, indent=2).encode()

        return web.json_response({"id": self.sms.store(record), "cnt": 1})
