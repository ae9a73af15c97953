"""Serving stored bytes: byte ranges, safe response headers, and short-lived signed links."""

import base64
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.responses import StreamingResponse

from services.common.errors import NotFound, RangeNotSatisfiable
from services.common.keys import same_secret
from services.files.models import StoredFile
from services.files.names import content_disposition
from services.files.storage import ObjectStore

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
# Types a browser may show in its own tab; anything else is always a download.
INLINE_TYPES = frozenset(
    {"application/pdf", "image/jpeg", "image/png", "video/mp4", "video/webm"}
    | {"audio/wav", "audio/ogg", "audio/mpeg"}  # call recordings, played in the page
)


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """`(start, stop)` of a single byte range, or None for the whole file.

    Several ranges, or a header we cannot read, get the whole file (RFC 9110 §14.2 lets a
    server ignore Range); a range that starts past the end is a 416.
    """
    if not header:
        return None
    match = RANGE.fullmatch(header.strip())
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.groups()
    if first == "":
        suffix = int(last)
        if suffix == 0:
            raise _unsatisfiable(size)
        return max(0, size - suffix), size
    start = int(first)
    stop = size if last == "" else min(int(last) + 1, size)
    if start >= size or stop <= start:
        raise _unsatisfiable(size)
    return start, stop


def _unsatisfiable(size: int) -> RangeNotSatisfiable:
    return RangeNotSatisfiable(
        f"The range is outside the file's {size} bytes.",
        headers={"Content-Range": f"bytes */{size}"},
    )


def safe_headers(record: StoredFile, *, inline: bool, name: str | None = None) -> dict[str, str]:
    """Headers that keep a downloaded file from acting as a page of ours."""
    disposition = "inline" if inline and record.media_type in INLINE_TYPES else "attachment"
    return {
        "Content-Disposition": content_disposition(name or record.display_name, disposition),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "Cache-Control": "private, no-store",
    }


def file_response(
    store: ObjectStore,
    record: StoredFile,
    *,
    range_header: str | None,
    if_range: str | None,
    inline: bool,
) -> StreamingResponse:
    etag = f'"{record.sha256}"'
    wanted = parse_range(range_header, record.size) if if_range in (None, etag) else None
    start, stop = wanted or (0, record.size)
    headers = safe_headers(record, inline=inline) | {
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Repr-Digest": f"sha-256=:{base64.b64encode(bytes.fromhex(record.sha256)).decode()}:",
        "Content-Length": str(stop - start),
    }
    if wanted:
        headers["Content-Range"] = f"bytes {start}-{stop - 1}/{record.size}"
    return StreamingResponse(
        store.read(record.object_key, start, stop),
        status_code=206 if wanted else 200,
        media_type=record.media_type,
        headers=headers,
    )


def concatenated(header: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    async def chunks() -> AsyncIterator[bytes]:
        yield header
        async for chunk in rest:
            yield chunk

    return chunks()


@dataclass(frozen=True)
class LinkClaims:
    file_id: uuid.UUID
    expires: datetime
    deidentified: bool


class LinkSigner:
    """Signs the service's own download links (the local store, and de-identified copies)."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, payload: bytes) -> str:
        digest = hmac.new(self._secret, payload, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def sign(self, claims: LinkClaims) -> str:
        body = {"f": str(claims.file_id), "e": int(claims.expires.timestamp()),
                "d": claims.deidentified}  # fmt: skip
        payload = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=")
        return f"{payload.decode()}.{self._mac(payload)}"

    def verify(self, token: str, now: datetime) -> LinkClaims:
        """The claims of a genuine, unexpired link; anything else is a plain 404."""
        invalid = NotFound("This link is not valid or has expired.")
        payload, _, mac = token.partition(".")
        if not same_secret(self._mac(payload.encode("utf-8", "surrogatepass")), mac):
            raise invalid
        try:
            body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            claims = LinkClaims(
                uuid.UUID(body["f"]), datetime.fromtimestamp(body["e"], UTC), bool(body["d"])
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise invalid from exc
        if claims.expires <= now:
            raise invalid
        return claims
