"""Keyset-pagination cursors: the last row's sort key and id, opaque to clients."""

import base64
import binascii
import json
import uuid
from datetime import datetime

from services.common.errors import BadRequest
from services.common.times import within_years


def encode_cursor(sort_key: datetime, row_id: uuid.UUID) -> str:
    """base64url of the last row's (timestamp, id) sort key."""
    raw = json.dumps([sort_key.isoformat(), str(row_id)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The sort key of a cursor this service issued; anything else is a 400."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key_text, id_text = json.loads(raw)
        sort_key = within_years(datetime.fromisoformat(key_text))
        row_id = uuid.UUID(id_text)
    except (binascii.Error, UnicodeDecodeError, TypeError, ValueError) as error:
        raise BadRequest("The cursor is not one this service issued.") from error
    if sort_key.tzinfo is None:
        raise BadRequest("The cursor is not one this service issued.")
    return sort_key, row_id
