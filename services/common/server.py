"""uvicorn's h11 protocol with a lingering close and problem documents for malformed requests."""

import asyncio
import json
import sys
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import STATUS_PHRASES, H11Protocol

from services.common.errors import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_BASE
from services.common.headers import with_api_headers

# A lingering close, as Apache and nginx do it. A request answered before its body was read
# (413, 408, a parser's 400 or 431) still has bytes on the way; closing the socket with unread
# data makes the kernel send a reset, and a reset makes the client's TCP stack throw away the
# answer it has not read yet, so the client sees "connection reset by peer" instead of the 413.
# So the server stops writing after the answer (FIN), reads and discards what keeps coming, and
# closes once the request has ended or the client closes, or at these bounds, whichever comes
# first. They cap what one refused request costs: a connection held for 2 s, and 64 MiB read and
# dropped (a client that writes a whole body before reading gets its answer up to that size).
LINGER_SECONDS = 2.0
LINGER_BYTES = 64 * 2**20


class Protocol(H11Protocol):
    """`H11Protocol` whose connections close lingering when the request is still arriving, and
    whose answer to a request the parser refuses is RFC 9457 `application/problem+json`: 431
    for a head over `--h11-max-incomplete-event-size`, else 400."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._linger: asyncio.TimerHandle | None = None
        self._linger_left = 0

    def handle_events(self) -> None:
        cycle = self.cycle
        super().handle_events()
        if self.cycle is not cycle:  # a request began: its cycle closes via `end_connection`
            self.cycle.transport = _ClosingThrough(self)

    def end_connection(self) -> None:
        """Closes the connection; lingering first while the request is still arriving."""
        if self._linger is not None or self.transport.is_closing():
            return
        if self.conn.their_state not in (h11.SEND_BODY, h11.ERROR):
            self.transport.close()
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # What uvicorn does when the connection is lost: the app reads a disconnect.
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        self._linger = self.loop.call_later(LINGER_SECONDS, self.transport.close)
        self._linger_left = LINGER_BYTES
        if self.transport.can_write_eof():
            self.transport.write_eof()  # after what is buffered: the answer
        self.flow.resume_reading()
        # A client that ends its half of the connection ends the wait: `eof_received` returns
        # None, so the transport closes itself.

    @property
    def lingering(self) -> bool:
        return self._linger is not None

    def data_received(self, data: bytes) -> None:
        if self._linger is None:
            super().data_received(data)
            return
        self._linger_left -= len(data)
        if self._linger_left <= 0 or self._body_ended(data):
            self.transport.close()

    def _body_ended(self, data: bytes) -> bool:
        """Whether `data` ends the request's body, when its framing is still being followed
        (not after the parser refused the request)."""
        if self.conn.their_state is not h11.SEND_BODY:
            return False
        try:
            self.conn.receive_data(data)
            while (event := self.conn.next_event()) is not h11.NEED_DATA:
                if not isinstance(event, h11.Data):
                    return True  # the end of the body (or of what can be followed)
        except h11.RemoteProtocolError:
            return True
        return False

    def shutdown(self) -> None:
        if self._linger is not None:  # the server stops: the wait ends now
            self.transport.close()
            return
        super().shutdown()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._linger is not None:
            self._linger.cancel()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        # Called by `handle_events` while it handles the parser's `RemoteProtocolError`.
        error = sys.exception()
        in_head = self.cycle is None or self.cycle.response_complete
        head_too_large = (
            in_head
            and isinstance(error, h11.RemoteProtocolError)
            and error.error_status_hint == 431
        )
        if self.conn.our_state in (h11.IDLE, h11.SEND_RESPONSE) and not (
            self.cycle is not None and self.cycle.response_started
        ):
            if head_too_large:
                limit = self.config.h11_max_incomplete_event_size
                self._send_problem(
                    431,
                    "request-header-fields-too-large",
                    f"The request head exceeds {limit} bytes.",
                )
            else:
                self._send_problem(400, "bad-request", "The request is not valid HTTP/1.1.")
        self.end_connection()

    def _send_problem(self, status: int, slug: str, detail: str) -> None:
        title = STATUS_PHRASES[status]
        problem = {"type": PROBLEM_TYPE_BASE + slug, "title": title.decode(), "status": status}
        body = json.dumps(problem | {"detail": detail}).encode()
        headers = with_api_headers(
            [
                *self.server_state.default_headers,
                (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ]
        )
        for event in (
            h11.Response(status_code=status, headers=headers, reason=title),
            h11.Data(data=body),
            h11.EndOfMessage(),
        ):
            self.transport.write(self.conn.send(event) or b"")


class _ClosingThrough(asyncio.Transport):
    """The connection's transport as a request's cycle holds it: closing it is the protocol's
    `end_connection`, which lingers while the request is still arriving."""

    def __init__(self, protocol: Protocol) -> None:
        super().__init__()
        self._protocol = protocol

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._protocol.transport.write(data)

    def is_closing(self) -> bool:
        return self._protocol.lingering or self._protocol.transport.is_closing()

    def close(self) -> None:
        self._protocol.end_connection()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._protocol.transport.get_extra_info(name, default)
