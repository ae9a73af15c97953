"""Streams a `multipart/form-data` upload: the file part's bytes flow on, small fields are kept.

Starlette's own form parser spools files to disk; here the file's bytes go straight to the
store as they arrive, and the fields around it (kind, case, checksum) are collected.
"""

from collections.abc import AsyncIterator

from python_multipart.multipart import MultipartParser, parse_options_header

from services.common.errors import BadRequest

MAX_FIELD_BYTES = 4096
MAX_FIELDS = 16


class StreamedForm:
    def __init__(self, content_type: str) -> None:
        _, options = parse_options_header(content_type)
        boundary = options.get(b"boundary")
        if not boundary:
            raise BadRequest("A multipart body needs a boundary.")
        self.fields: dict[str, str] = {}
        self.filename: str | None = None
        self._files_seen = 0
        self._headers: dict[bytes, bytes] = {}
        self._header_name = b""
        self._header_value = b""
        self._current: bytearray | None = None  # a field's value, or None inside the file part
        self._current_name = ""
        self._in_file = False
        self._pending: list[bytes] = []
        self._ended = False
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value_data,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
                "on_end": self._end,
            },
        )

    async def file_bytes(self, body: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        """Yields the file part's bytes; `fields` is complete once the iteration ends."""
        async for chunk in body:
            try:
                self._parser.write(chunk)
            except BadRequest:
                raise
            except Exception as exc:  # the parser's errors are plain exceptions of its own
                raise BadRequest(f"The multipart body is malformed: {exc}") from exc
            pending, self._pending = self._pending, []
            for piece in pending:
                yield piece
        self._parser.finalize()
        if not self._ended:
            # A body cut short (a dropped link, a client that stops early) reads like a whole
            # file up to where it stopped; only the closing boundary says the file is all there.
            raise BadRequest("The multipart body ends before its closing boundary.")
        if self._files_seen != 1:
            raise BadRequest("Send exactly one file, in a part named `file`.")

    def _part_begin(self) -> None:
        self._headers = {}

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header_name.lower()] = self._header_value
        self._header_name, self._header_value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in options or name == "file":
            self._files_seen += 1
            if self._files_seen > 1:
                raise BadRequest("Send one file per request.")
            self._in_file = True
            self.filename = options.get(b"filename", b"").decode("utf-8", "replace") or None
        else:
            if len(self.fields) >= MAX_FIELDS:
                raise BadRequest("Too many form fields.")
            self._current, self._current_name = bytearray(), name

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self._pending.append(data[start:end])
        elif self._current is not None:
            self._current += data[start:end]
            if len(self._current) > MAX_FIELD_BYTES:
                raise BadRequest(f"The form field {self._current_name!r} is too long.")

    def _end(self) -> None:
        self._ended = True

    def _part_end(self) -> None:
        if self._current is not None:
            self.fields[self._current_name] = self._current.decode("utf-8", "replace")
        self._current, self._in_file = None, False
