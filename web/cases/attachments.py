"""A case's attachments: each file's page (its DICOM study facts), its bytes streamed through
the console for viewing in the browser or downloading, and files added to or taken off a
draft (or a case sent back with a question).

The browser never gets a link of the files service: its signed links carry their capability
in the URL, which is what the console keeps out of every URL it makes. The console reads the
bytes with the reader's token and consult's grant, both kept on the server, and streams them
on with `Range` passed through, so a PDF viewer or a resumed download asks for parts.
"""

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from starlette.datastructures import UploadFile

from services.common.errors import Conflict, NotFound
from web.cases.api import CasesApi, Refusal
from web.cases.deps import Screens, ScreensDep
from web.cases.forms import FormState
from web.cases.labels import FILE_KINDS
from web.cases.page import UPLOAD_CHUNK, permitted, show
from web.cases.schemas import Case
from web.cases.views import render
from web.deps import SignedIn, SignedInDep, SignedInFormDep
from web.templating import is_htmx

router = APIRouter(include_in_schema=False)
PASSED_ON = ("content-type", "content-length", "content-range", "accept-ranges", "etag",
             "content-disposition", "last-modified")  # fmt: skip
ASKED = ("range", "if-range")
# Types a browser shows itself. A PDF is opened by the browser's viewer, which a sandboxed
# document may not start, so it goes without the sandbox the files service asks for the rest.
PDF = "application/pdf"
READ_SIZE = 64 * 1024


async def _case_file(screens: Screens, token: str, case_id: uuid.UUID, file_id: uuid.UUID) -> str:
    """Consult's grant to read the file, if the file is one of the case's; else a 404."""
    grant = await screens.api.grant(token, case_id)
    if file_id not in grant.file_ids:
        raise NotFound("This case has no such file.")
    return grant.grant


@router.get("/cases/{case_id}/files/{file_id}")
async def file_page(
    request: Request,
    case_id: uuid.UUID,
    file_id: uuid.UUID,
    signed_in: SignedInDep,
    screens: ScreensDep,
) -> Response:
    """The file's facts: name, kind, type, size, checksum, and a DICOM study's description."""
    token = signed_in.access_token
    grant = await _case_file(screens, token, case_id, file_id)
    info = await screens.api.file_info(token, file_id, grant)
    context = {"case_id": case_id, "file": info, "file_kinds": FILE_KINDS}
    return render(request, "cases/file.html", context)


async def _stream(
    request: Request,
    screens: Screens,
    signed_in: SignedIn,
    case_id: uuid.UUID,
    file_id: uuid.UUID,
    tail: str,
) -> StreamingResponse:
    token = signed_in.access_token
    grant = await _case_file(screens, token, case_id, file_id)
    return await stream_file(request, screens.api, token, f"{file_id}/{tail}", grant)


async def stream_file(
    request: Request, api: CasesApi, token: str, path: str, grant: str
) -> StreamingResponse:
    """The files service's bytes at `path` (a file's `content` or `deidentified`), read with
    the reader's token and consult's `grant`, passed on with the browser's range."""
    asked = {name: request.headers[name] for name in ASKED if name in request.headers}
    upstream = await api.open_file(token, path, grant, asked)
    headers = {name: upstream.headers[name] for name in PASSED_ON if name in upstream.headers}
    media_type = headers.get("content-type", "").split(";")[0]
    headers |= {
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "frame-ancestors 'self'"
        if media_type == PDF
        else "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'",
    }

    async def body() -> AsyncIterator[bytes]:
        try:
            async for chunk in upstream.aiter_raw():
                yield chunk
        finally:
            await upstream.aclose()

    return StreamingResponse(body(), status_code=upstream.status_code, headers=headers)


@router.get("/cases/{case_id}/files/{file_id}/content")
async def content(
    request: Request,
    case_id: uuid.UUID,
    file_id: uuid.UUID,
    signed_in: SignedInDep,
    screens: ScreensDep,
    inline: bool = False,
) -> StreamingResponse:
    """The bytes: shown in the browser's tab with `inline` (PDF, images), else a download."""
    tail = "content?inline=true" if inline else "content"
    return await _stream(request, screens, signed_in, case_id, file_id, tail)


@router.get("/cases/{case_id}/files/{file_id}/deidentified")
async def deidentified(
    request: Request,
    case_id: uuid.UUID,
    file_id: uuid.UUID,
    signed_in: SignedInDep,
    screens: ScreensDep,
) -> StreamingResponse:
    """A DICOM file with its header de-identified (the files service's PS3.15 profile)."""
    return await _stream(request, screens, signed_in, case_id, file_id, "deidentified")


# Adding and removing ----------------------------------------------------------------------


async def change_attachments(
    api: CasesApi, token: str, case_id: uuid.UUID, add: list[uuid.UUID], remove: uuid.UUID | None
) -> Case | Refusal:
    """The case's attachments with `add` appended and `remove` taken off, written against the
    version read. Two uploads finishing at once both land: the one that finds the case changed
    (412) reads it again and retries."""
    result: Case | Refusal | None = None
    for _attempt in range(3):
        case = await api.case(token, case_id)
        kept = [file_id for file_id in case.attachment_ids if file_id != remove]
        wanted = kept + [file_id for file_id in add if file_id not in kept]
        body = {"attachment_ids": [str(file_id) for file_id in wanted]}
        result = await api.update_case(token, case_id, body, case.version)
        if not (isinstance(result, Refusal) and result.status == 412):
            break
    assert result is not None
    return result


async def _answer(
    request: Request,
    screens: Screens,
    signed_in: SignedIn,
    case_id: uuid.UUID,
    result: Case | Refusal,
    saved: str,
) -> Response:
    """htmx gets the attachments' block again; a plain form, the page (PRG), or the page with
    the refusal beside the files' form."""
    if isinstance(result, Refusal):
        state = FormState(detail=result.detail or str(result.status))
        forms = {"attach": state}
        if is_htmx(request):
            case = await screens.api.case(signed_in.access_token, case_id)
            return _attachments_block(request, screens, signed_in, case, forms, result.status)
        return await show(request, screens, signed_in, case_id, forms=forms, status=result.status)
    if is_htmx(request):
        return _attachments_block(request, screens, signed_in, result, {}, 200)
    return RedirectResponse(f"/cases/{case_id}?saved={saved}#attachments", status_code=303)


def _attachments_block(
    request: Request,
    screens: Screens,
    signed_in: SignedIn,
    case: Case,
    forms: dict[str, FormState],
    status: int,
) -> Response:
    context = {
        "case": case,
        "steps": permitted(case, signed_in.session),
        "file_kinds": FILE_KINDS,
        "chunk_size": min(UPLOAD_CHUNK, screens.settings.max_body_size),
        "forms": forms,
    }
    return render(request, "cases/case.html", context, block="attachments", status=status)


@router.post("/cases/{case_id}/attachments")
async def attach_upload(
    request: Request,
    case_id: uuid.UUID,
    signed_in: SignedInFormDep,
    screens: ScreensDep,
    upload: Annotated[uuid.UUID, Form()],
) -> Response:
    """A resumable upload the page finished (through the console's relay) joins the case."""
    token = signed_in.access_token
    state = await screens.api.upload_state(token, upload)
    if state.file_id is None:
        raise Conflict("The upload is not complete yet.")
    result = await change_attachments(screens.api, token, case_id, [state.file_id], None)
    return await _answer(request, screens, signed_in, case_id, result, "attached")


@router.post("/cases/{case_id}/files")
async def attach_files(
    request: Request, case_id: uuid.UUID, signed_in: SignedInFormDep, screens: ScreensDep
) -> Response:
    """The same without a script: the form's files, each passed on to the files service. The
    gateway takes a form of at most its body limit (1 MiB), so larger files need the page's
    script, which sends them resumably in parts."""
    form = await request.form()
    kind = str(form.get("kind") or "other")
    kind = kind if kind in FILE_KINDS else "other"
    token = signed_in.access_token
    added: list[uuid.UUID] = []
    for item in form.getlist("file"):
        if not isinstance(item, UploadFile) or not item.filename or not item.size:
            continue
        stored = await screens.api.upload_file(token, _chunks(item), item.size, item.filename, kind)
        if isinstance(stored, Refusal):
            return await _answer(request, screens, signed_in, case_id, stored, "attached")
        added.append(stored.id)
    if not added:
        refusal = Refusal(status=422, detail="no_file")
        return await _answer(request, screens, signed_in, case_id, refusal, "attached")
    result = await change_attachments(screens.api, token, case_id, added, None)
    return await _answer(request, screens, signed_in, case_id, result, "attached")


async def _chunks(file: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await file.read(READ_SIZE):
        yield chunk


@router.post("/cases/{case_id}/attachments/{file_id}/remove")
async def remove(
    request: Request,
    case_id: uuid.UUID,
    file_id: uuid.UUID,
    signed_in: SignedInFormDep,
    screens: ScreensDep,
) -> Response:
    result = await change_attachments(screens.api, signed_in.access_token, case_id, [], file_id)
    return await _answer(request, screens, signed_in, case_id, result, "removed")
