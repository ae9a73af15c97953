"""The queue cursor: opaque, round-trips exactly, and anything else is a 400."""

import base64
import uuid
from datetime import UTC, datetime

import pytest

from services.common.errors import BadRequest
from services.common.pagination import decode_cursor, encode_cursor


def test_round_trip() -> None:
    due_at = datetime(2025, 6, 2, 10, 30, 15, 123456, tzinfo=UTC)
    case_id = uuid.uuid4()
    cursor = encode_cursor(due_at, case_id)
    assert str(case_id) not in cursor  # opaque, URL-safe
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert decode_cursor(cursor) == (due_at, case_id)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not base64 at all!",
        "%%%",
        _b64(b"\xff\xfe"),
        _b64(b"not json"),
        _b64(b"{}"),
        _b64(b"[]"),
        _b64(b'["2025-06-02T10:30:00+00:00"]'),
        _b64(b'["2025-06-02T10:30:00+00:00", "not-a-uuid"]'),
        _b64(b'["yesterday", "0b9c3f5e-4d5c-4b8e-9a57-6f1f1d6c2a10"]'),
        _b64(b'[1, "0b9c3f5e-4d5c-4b8e-9a57-6f1f1d6c2a10"]'),
        _b64(b'["2025-06-02T10:30:00", "0b9c3f5e-4d5c-4b8e-9a57-6f1f1d6c2a10"]'),
        _b64(b'["2025-06-02T10:30:00+00:00", "0b9c3f5e-4d5c-4b8e-9a57-6f1f1d6c2a10", 3]'),
    ],
)
def test_malformed_cursor_is_a_bad_request(cursor: str) -> None:
    with pytest.raises(BadRequest):
        decode_cursor(cursor)
