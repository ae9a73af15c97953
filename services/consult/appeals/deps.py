"""Dependencies of the appeals routers: the files service as the telephony client that reports a
call (its recordings), and consult's grant issuer (reading them back)."""

import uuid
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request

from services.common.auth import bearer_token
from services.common.errors import Unprocessable
from services.common.grants import GrantIssuer
from services.consult.appeals.recordings import AUDIO_TYPES, RecordingStore, StoredRecording
from services.files.client import FilesClient

RECORDING_KIND = "recording"


def _grants(request: Request) -> GrantIssuer:
    grants: GrantIssuer = request.app.state.grants
    return grants


def _recordings(request: Request) -> RecordingStore:
    """Files stored and read with the client's own token: the files service keeps them as its
    organisation's, and shows it only those."""
    files: FilesClient = request.app.state.files
    token = bearer_token(request)

    async def store(path: Path, name: str) -> StoredRecording:
        stored = await files.upload(path, token, kind=RECORDING_KIND, name=name)
        return StoredRecording(stored.id, stored.media_type, stored.size)

    async def check(file_id: uuid.UUID) -> StoredRecording:
        stored = await files.get_file(file_id, token)
        if stored.media_type not in AUDIO_TYPES:
            raise Unprocessable(f"File {file_id} is {stored.media_type}, not a recording.")
        return StoredRecording(stored.id, stored.media_type, stored.size)

    return RecordingStore(store=store, check=check)


GrantsDep = Annotated[GrantIssuer, Depends(_grants)]
RecordingsDep = Annotated[RecordingStore, Depends(_recordings)]
