"""The photos a question carries, as file ids of the files service: those the page's script
sent through the console's tus relay (`web/cases/uploads.py`, named here by their upload), those
a form without a script brought whole, and those kept from a refused form."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from starlette.datastructures import FormData, UploadFile

from web.cases.api import Refusal
from web.cases.forms import parse_id
from web.patients.api import PatientApi

KIND = "photo"
READ_SIZE = 64 * 1024


@dataclass
class Photos:
    file_ids: list[uuid.UUID] = field(default_factory=list)
    error: str | None = None  # "unfinished", or the files service's refusal


def _ids(form: FormData, name: str) -> list[uuid.UUID]:
    found = (parse_id(value) for value in form.getlist(name) if isinstance(value, str))
    return [each for each in found if each is not None]


async def _chunks(file: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await file.read(READ_SIZE):
        yield chunk


async def collect(api: PatientApi, token: str, form: FormData) -> Photos:
    """Every photo of the form as a stored file; the first that cannot be had stops it (and
    what was stored so far is kept, so a corrected form sends nothing twice)."""
    photos = Photos(file_ids=_ids(form, "attached"))
    for upload_id in _ids(form, "upload"):
        state = await api.upload_state(token, upload_id)
        if state.file_id is None:
            photos.error = "unfinished"
            return photos
        photos.file_ids.append(state.file_id)
    for item in form.getlist("photo"):
        if not isinstance(item, UploadFile) or not item.filename or not item.size:
            continue
        stored = await api.upload_file(token, _chunks(item), item.size, item.filename, KIND)
        if isinstance(stored, Refusal):
            photos.error = stored.detail or str(stored.status)
            return photos
        photos.file_ids.append(stored.id)
    photos.file_ids = list(dict.fromkeys(photos.file_ids))
    return photos
