"""Call recordings on their way to the files service: fetched from the PBX's recording server
(only under the sources the deployment names), or uploaded by the PBX adapter itself, and
stored as the telephony client's files. Consult keeps which call and appeal each belongs to.

The fetch streams to a temporary file, counting bytes against the limit, and the files client
streams that file on: a long call's recording is never held in memory.
"""

import tempfile
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx
from pydantic import HttpUrl

from services.common.errors import BadGateway, PayloadTooLarge, Unprocessable
from services.consult.appeals.settings import TelephonyPolicy

# What the files service stores a recording as (it sniffs the type itself); anything else a
# URL serves is refused before it is stored.
AUDIO_TYPES = {"audio/wav": "wav", "audio/ogg": "ogg", "audio/mpeg": "mp3"}
READ_SIZE = 64 * 1024


@dataclass(frozen=True)
class StoredRecording:
    file_id: uuid.UUID
    media_type: str
    size: int


@dataclass(frozen=True)
class RecordingStore:
    """The files service as the telephony client that reports the call."""

    # The audio in a local file, stored as the client's file of the given name.
    store: Callable[[Path, str], Awaitable[StoredRecording]]
    # A file the client uploaded itself: what it is; 404 if it is not the client's.
    check: Callable[[uuid.UUID], Awaitable[StoredRecording]]


def allowed(url: HttpUrl, policy: TelephonyPolicy) -> bool:
    """Under one of the sources: the same scheme, host and port, and a path below the
    source's (`/rec` lets `/rec/1.wav` in, not `/records/1.wav`)."""
    for source in policy.recording_sources:
        folder = (source.path or "/").rstrip("/") + "/"
        same_origin = (url.scheme, url.host, url.port) == (source.scheme, source.host, source.port)
        if same_origin and (url.path or "/").startswith(folder):
            return True
    return False


def audio_type(head: bytes) -> str | None:
    """The recording's type from its first bytes: WAV, Ogg, or MP3 (an ID3 tag or a frame)."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"ID3") or head[:2] in {b"\xff\xfb", b"\xff\xfa", b"\xff\xf3", b"\xff\xf2"}:
        return "audio/mpeg"
    return None


async def download(url: str, into: Path, policy: TelephonyPolicy) -> str:
    """Fetches `url` into the file `into`; the audio's type. Redirects are not followed (they
    could lead outside the sources); the PBX's refusal is the client's problem (422), its
    server down a 502 the adapter retries after."""
    timeout = httpx.Timeout(policy.recording_fetch_seconds, connect=10.0)
    received, head = 0, b""
    try:
        async with (
            httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code >= 500:
                raise BadGateway(f"The recording server answered {response.status_code}.")
            if response.status_code != 200:
                raise Unprocessable(
                    f"The recording server answered {response.status_code} for `recording_url`."
                )
            async with await anyio.open_file(into, "wb") as file:
                async for chunk in response.aiter_bytes(READ_SIZE):
                    received += len(chunk)
                    if received > policy.recording_max_bytes:
                        raise PayloadTooLarge(
                            f"The recording is over {policy.recording_max_bytes} bytes."
                        )
                    if len(head) < 16:
                        head += chunk[:16]
                    await file.write(chunk)
    except httpx.HTTPError as error:
        raise BadGateway(f"The recording could not be fetched: {error}.") from error
    media_type = audio_type(head)
    if media_type is None:
        raise Unprocessable("`recording_url` serves no WAV, Ogg or MP3 audio.")
    return media_type


async def fetched(
    url: str, name: str, policy: TelephonyPolicy, recordings: RecordingStore
) -> StoredRecording:
    """The audio at `url` (one `allowed` passed) stored as `name` with its type's extension,
    the temporary copy removed whatever happens."""
    with tempfile.TemporaryDirectory(prefix="telemed-recording-") as folder:
        path = Path(folder) / "recording"
        media_type = await download(url, path, policy)
        return await recordings.store(path, f"{name}.{AUDIO_TYPES[media_type]}")
