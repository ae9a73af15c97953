"""HTTP routes of the files service under `/api/files`: upload, read, link, attach, delete."""

import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.responses import StreamingResponse

from services.common.auth import CurrentPrincipal, bearer_token
from services.common.db import utcnow
from services.common.errors import (
    Conflict,
    Forbidden,
    NotFound,
    Unprocessable,
    problem_responses,
)
from services.common.uow import UnitOfWorkDep, request_unit_of_work
from services.consult.client import ConsultClient
from services.files import service
from services.files.deidentified import deidentified_response
from services.files.downloads import LinkClaims, LinkSigner, file_response
from services.files.enums import FileKind
from services.files.forms import StreamedForm
from services.files.ingest import too_large
from services.files.models import StoredFile
from services.files.names import content_disposition, display_name
from services.files.receive import checksum_mismatch, receive, remove_quietly
from services.files.schemas import (
    SHA256_PATTERN,
    AttachRequest,
    FileOut,
    FilePage,
    LegalHoldRequest,
    LinkOut,
    LinkRequest,
)
from services.files.service import RESOURCE as FILE_RESOURCE
from services.files.settings import FilesSettings
from services.files.storage import ObjectStore

PREFIX = "/api/files"
router = APIRouter(prefix=PREFIX)
FileId = Annotated[uuid.UUID, Path(description="The file's id.")]
READ_ERRORS = problem_responses(401, 403, 404, 502)


def _settings(request: Request) -> FilesSettings:
    settings: FilesSettings = request.app.state.settings
    return settings


def _store(request: Request) -> ObjectStore:
    store: ObjectStore = request.app.state.store
    return store


def _case_access(request: Request) -> service.CaseAccess:
    """Asks the consult service, with the caller's own token, whether they may read a case."""
    consult = ConsultClient(request.app.state.gateway_client)
    token = bearer_token(request)
    answers: dict[uuid.UUID, bool] = {}

    async def may_read(case_id: uuid.UUID) -> bool:
        if case_id not in answers:
            try:
                await consult.get_case(case_id, token)
                answers[case_id] = True
            except (NotFound, Forbidden):
                answers[case_id] = False
        return answers[case_id]

    return may_read


SettingsDep = Annotated[FilesSettings, Depends(_settings)]
StoreDep = Annotated[ObjectStore, Depends(_store)]
CaseAccessDep = Annotated[service.CaseAccess, Depends(_case_access)]


def _metadata(
    fields: dict[str, str | None],
) -> tuple[FileKind, uuid.UUID | None, str | None]:
    try:
        kind = FileKind(fields.get("kind") or FileKind.OTHER)
        case = fields.get("case_id")
        case_id = uuid.UUID(case) if case else None
    except ValueError as exc:
        raise Unprocessable(f"The upload's fields are not valid: {exc}") from exc
    checksum = (fields.get("sha256") or "").lower() or None
    if checksum is not None and not re.fullmatch(SHA256_PATTERN, checksum):
        raise Unprocessable("`sha256` must be 64 hexadecimal digits.")
    return kind, case_id, checksum


@router.post(
    "/files",
    status_code=201,
    response_model=FileOut,
    tags=["files"],
    summary="Upload a whole file in one request (multipart `file` part, or the raw body)",
    description="The body streams to storage as it arrives. Fields (`kind`, `case_id`, `name`, "
    "`sha256`) come as query parameters, or as form fields next to the `file` part. The type "
    "is read from the content; the name is kept for display only. For large files over weak "
    "links use the resumable tus endpoint `/api/files/uploads` instead.",
    responses=problem_responses(400, 401, 403, 413, 415, 422),
)
async def upload_file(
    request: Request,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    store: StoreDep,
    kind: FileKind | None = None,
    case_id: uuid.UUID | None = None,
    name: Annotated[str | None, Query(max_length=1024)] = None,
    sha256: Annotated[str | None, Query(pattern=SHA256_PATTERN)] = None,
) -> JSONResponse:
    service.require_uploader(principal)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.max_file_size + 64 * 1024:
        raise too_large(settings.max_file_size)
    fields: dict[str, str | None] = {
        "kind": kind, "case_id": str(case_id) if case_id else None, "name": name,
        "sha256": sha256,
    }  # fmt: skip
    content_type = request.headers.get("content-type", "")
    body: AsyncIterator[bytes] = request.stream()
    form = None
    if content_type.startswith("multipart/form-data"):
        form = StreamedForm(content_type)
        body = form.file_bytes(body)
    key = service.new_object_key()
    received = await receive(store, settings, key, body, display_name(name))
    try:
        if form is not None:
            fields |= {k: v for k, v in form.fields.items() if v} | {
                "name": form.fields.get("name") or name or form.filename
            }
        file_kind, file_case, expected = _metadata(fields)
        if expected is not None and expected != received.sha256:
            raise checksum_mismatch(expected, received.sha256)
        async with request_unit_of_work(request) as uow:
            record = service.new_file_record(
                organization_id=service.owner_organization(principal),
                uploaded_by=principal.subject,
                case_id=file_case,
                kind=file_kind,
                display_name=display_name(fields.get("name")),
                received=received,
            )
            uow.session.add(record)
            service.audit(uow, "file.upload", record.id, detail=f"{received.size} bytes")
            await uow.session.flush()
            out = FileOut.model_validate(record)
    except BaseException:
        await remove_quietly(store, received.key)
        raise
    return JSONResponse(
        out.model_dump(mode="json"),
        status_code=201,
        headers={"Location": f"{PREFIX}/files/{out.id}"},
    )


@router.get(
    "/files",
    response_model=FilePage,
    tags=["files"],
    summary="The files of a case that you may read",
    responses=READ_ERRORS,
)
async def list_files(
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    case_access: CaseAccessDep,
    case_id: uuid.UUID,
) -> FilePage:
    records = await service.list_case_files(uow, principal, case_id, case_access)
    return FilePage(items=[FileOut.model_validate(record) for record in records])


@router.get(
    "/files/{file_id}",
    response_model=FileOut,
    tags=["files"],
    summary="A file's metadata (type, size, sha256, DICOM study and series)",
    responses=READ_ERRORS,
)
async def get_file(
    uow: UnitOfWorkDep, principal: CurrentPrincipal, case_access: CaseAccessDep, file_id: FileId
) -> FileOut:
    record = await service.load_file(uow, principal, file_id, "file.read", case_access)
    service.audit(uow, "file.read", file_id)
    return FileOut.model_validate(record)


@router.get(
    "/files/{file_id}/content",
    tags=["files"],
    summary="The file's bytes; `Range` gives 206 partial content",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/octet-stream": {}}},
        206: {"description": "Partial content"},
        **problem_responses(401, 403, 404, 416, 502),
    },
)
async def download(
    request: Request,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    case_access: CaseAccessDep,
    store: StoreDep,
    file_id: FileId,
    inline: Annotated[bool, Query(description="Show PDFs, images and video in the tab")] = False,
) -> StreamingResponse:
    record = await service.load_file(uow, principal, file_id, "file.download", case_access)
    response = file_response(
        store,
        record,
        range_header=request.headers.get("range"),
        if_range=request.headers.get("if-range"),
        inline=inline,
    )
    service.audit(uow, "file.download", file_id, detail=response.headers.get("content-range"))
    return response


@router.get(
    "/files/{file_id}/deidentified",
    tags=["files"],
    summary="A DICOM file with its header de-identified (PS3.15 Annex E basic profile)",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/dicom": {}}},
        **problem_responses(401, 403, 404, 409, 502),
    },
)
async def download_deidentified(
    request: Request,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    case_access: CaseAccessDep,
    store: StoreDep,
    file_id: FileId,
) -> StreamingResponse:
    record = await service.load_file(uow, principal, file_id, "file.download", case_access)
    if record.dicom is None:
        uow.audit.refuse(
            "file.download", FILE_RESOURCE, file_id, Conflict("This file is not DICOM.")
        )
    response = await deidentified_response(store, record, request.app.state.dicom_uid_salt)
    service.audit(uow, "file.download", file_id, detail="de-identified")
    return response


@router.post(
    "/files/{file_id}/link",
    response_model=LinkOut,
    tags=["files"],
    summary="A short-lived URL a browser can open without a token",
    responses=problem_responses(401, 403, 404, 409, 422, 502),
)
async def create_link(
    body: LinkRequest,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    case_access: CaseAccessDep,
    settings: SettingsDep,
    store: StoreDep,
    request: Request,
    file_id: FileId,
) -> LinkOut:
    record = await service.load_file(uow, principal, file_id, "file.link", case_access)
    lifetime = timedelta(seconds=body.seconds) if body.seconds else settings.link_lifetime
    if lifetime > settings.max_link_lifetime:
        longest = settings.max_link_lifetime.total_seconds()
        uow.audit.refuse(
            "file.link",
            FILE_RESOURCE,
            file_id,
            Unprocessable(f"Links live at most {longest:.0f} s."),
        )
    if body.deidentified and record.dicom is None:
        uow.audit.refuse("file.link", FILE_RESOURCE, file_id, Conflict("This file is not DICOM."))
    expires = utcnow() + lifetime
    url = None
    if not body.deidentified:
        url = store.presigned_url(
            record.object_key,
            lifetime,
            filename_header=content_disposition(record.display_name),
            media_type=record.media_type,
        )
    if url is None:
        signer: LinkSigner = request.app.state.link_signer
        token = signer.sign(LinkClaims(record.id, expires, body.deidentified))
        url = f"{settings.public_url.rstrip('/')}{PREFIX}/links/{token}"
    service.audit(uow, "file.link", file_id, detail=f"until {expires.isoformat()}")
    return LinkOut(url=url, expires_at=expires)


@router.get(
    "/links/{token}",
    tags=["files"],
    summary="Follow a signed link (no token needed; it expires)",
    response_class=StreamingResponse,
    responses=problem_responses(404, 416),
)
async def follow_link(
    request: Request, uow: UnitOfWorkDep, store: StoreDep, token: str
) -> StreamingResponse:
    signer: LinkSigner = request.app.state.link_signer
    claims = signer.verify(token, utcnow())
    record = await uow.session.get(StoredFile, claims.file_id)
    if record is None or record.deleted_at is not None:
        raise NotFound("This link is not valid or has expired.")
    uow.audit.record("file.download", service.RESOURCE, record.id, detail="signed link")
    if claims.deidentified:
        return await deidentified_response(store, record, request.app.state.dicom_uid_salt)
    return file_response(
        store,
        record,
        range_header=request.headers.get("range"),
        if_range=request.headers.get("if-range"),
        inline=True,
    )


@router.post(
    "/files/{file_id}/attach",
    response_model=FileOut,
    tags=["files"],
    summary="Attach your organisation's file to a case (the consult service calls this)",
    responses=problem_responses(401, 403, 404, 409),
)
async def attach_file(
    body: AttachRequest, uow: UnitOfWorkDep, principal: CurrentPrincipal, file_id: FileId
) -> FileOut:
    return FileOut.model_validate(await service.attach(uow, principal, file_id, body.case_id))


@router.delete(
    "/files/{file_id}",
    status_code=204,
    tags=["files"],
    summary="Delete a file (kept for the retention period, then purged; not under legal hold)",
    responses=problem_responses(401, 403, 404, 409),
)
async def delete_file(
    uow: UnitOfWorkDep, principal: CurrentPrincipal, settings: SettingsDep, file_id: FileId
) -> Response:
    await service.soft_delete(uow, principal, file_id, settings.deleted_retention)
    return Response(status_code=204)


@router.put(
    "/files/{file_id}/legal-hold",
    response_model=FileOut,
    tags=["files"],
    summary="Place or lift a legal hold (coordinators of the owner, administrators)",
    responses=problem_responses(401, 403, 404, 422),
)
async def legal_hold(
    body: LegalHoldRequest, uow: UnitOfWorkDep, principal: CurrentPrincipal, file_id: FileId
) -> FileOut:
    record = await service.set_legal_hold(uow, principal, file_id, body.hold, body.reason)
    return FileOut.model_validate(record)
