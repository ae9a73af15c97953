"""HTTP routes of the files service under `/api/files`: upload, read, link, pin, delete."""

import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.responses import StreamingResponse

from services.common.auth import CurrentPrincipal
from services.common.db import utcnow
from services.common.errors import Conflict, NotFound, Unprocessable, problem_responses
from services.common.grants import GRANT_HEADER, GrantVerifier
from services.common.openapi import client_scopes
from services.common.uow import UnitOfWorkDep, request_unit_of_work
from services.files import service
from services.files.access import PresentedGrant
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
    FileOut,
    LegalHoldRequest,
    LinkOut,
    LinkRequest,
    PinRequest,
)
from services.files.service import RESOURCE as FILE_RESOURCE
from services.files.settings import FilesSettings
from services.files.storage import ObjectStore

PREFIX = "/api/files"
router = APIRouter(prefix=PREFIX)
FileId = Annotated[uuid.UUID, Path(description="The file's id.")]
READ_ERRORS = problem_responses(401, 403, 404)


def _settings(request: Request) -> FilesSettings:
    settings: FilesSettings = request.app.state.settings
    return settings


def _store(request: Request) -> ObjectStore:
    store: ObjectStore = request.app.state.store
    return store


def _verifier(request: Request) -> GrantVerifier:
    verifier: GrantVerifier = request.app.state.grant_verifier
    return verifier


GRANT_DESCRIPTION = (
    "A grant from consult naming you and this file: `POST /api/consult/cases/{id}/attachments/"
    "grant` for reading a case's files. Owners of a file need none."
)


def _header_grant(
    request: Request,
    grant: Annotated[str | None, Header(alias=GRANT_HEADER, description=GRANT_DESCRIPTION)] = None,
) -> PresentedGrant | None:
    return PresentedGrant(grant, _verifier(request)) if grant else None


def _download_grant(
    request: Request,
    header: Annotated[PresentedGrant | None, Depends(_header_grant)],
    grant: Annotated[
        str | None,
        Query(
            max_length=4096,
            description="The same grant as a query parameter, so a browser link works "
            f"(the `{GRANT_HEADER}` header wins when both are sent).",
        ),
    ] = None,
) -> PresentedGrant | None:
    if header is not None:
        return header
    return PresentedGrant(grant, _verifier(request)) if grant else None


SettingsDep = Annotated[FilesSettings, Depends(_settings)]
StoreDep = Annotated[ObjectStore, Depends(_store)]
GrantDep = Annotated[PresentedGrant | None, Depends(_header_grant)]
DownloadGrantDep = Annotated[PresentedGrant | None, Depends(_download_grant)]


def _metadata(fields: dict[str, str | None]) -> tuple[FileKind, str | None]:
    if "case_id" in fields:
        raise service.case_id_refused("as a form field")
    try:
        kind = FileKind(fields.get("kind") or FileKind.OTHER)
    except ValueError as exc:
        raise Unprocessable(f"The upload's fields are not valid: {exc}") from exc
    checksum = (fields.get("sha256") or "").lower() or None
    if checksum is not None and not re.fullmatch(SHA256_PATTERN, checksum):
        raise Unprocessable("`sha256` must be 64 hexadecimal digits.")
    return kind, checksum


UPLOAD_FIELDS = {
    "kind": {"type": "string", "enum": [kind.value for kind in FileKind], "examples": ["ecg"]},
    "name": {"type": "string", "maxLength": 1024, "examples": ["ECG 12-lead.pdf"]},
    "sha256": {"type": "string", "pattern": SHA256_PATTERN,
               "description": "The content's SHA-256, checked once it is stored."},
}  # fmt: skip
UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "title": "FileUpload",
                "properties": {"file": {"type": "string", "format": "binary"}, **UPLOAD_FIELDS},
                "required": ["file"],
            },
            "example": {"file": "<the file's bytes>", "kind": "ecg", "name": "ECG 12-lead.pdf"},
            "encoding": {"file": {"contentType": "application/octet-stream"}},
        },
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    },
}


@router.post(
    "/files",
    status_code=201,
    response_model=FileOut,
    tags=["files"],
    summary="Upload a whole file in one request (multipart `file` part, or the raw body)",
    description="The body streams to storage as it arrives. Fields (`kind`, `name`, `sha256`) "
    "come as query parameters, or as form fields next to the `file` part. The type is read "
    "from the content; the name is kept for display only. A file joins a case through "
    "consult (the case's `attachment_ids`): a `case_id` here is refused with 422. For large "
    "files over weak links use the resumable tus endpoint `/api/files/uploads` instead.",
    responses=problem_responses(400, 401, 403, 413, 415, 422),
    # The route reads the body as a stream itself, so FastAPI cannot see it: declared here.
    openapi_extra={"requestBody": UPLOAD_BODY},
    dependencies=client_scopes(service.WRITE_SCOPE),
)
async def upload_file(
    request: Request,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    store: StoreDep,
    kind: FileKind | None = None,
    name: Annotated[str | None, Query(max_length=1024)] = None,
    sha256: Annotated[str | None, Query(pattern=SHA256_PATTERN)] = None,
) -> JSONResponse:
    service.require_uploader(principal)
    if "case_id" in request.query_params:  # refused before a byte is stored
        raise service.case_id_refused("as a query parameter")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.max_file_size + 64 * 1024:
        raise too_large(settings.max_file_size)
    fields: dict[str, str | None] = {"kind": kind, "name": name, "sha256": sha256}
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
            given = {k: v for k, v in form.fields.items() if v or k == "case_id"}
            fields |= given | {"name": form.fields.get("name") or name or form.filename}
        file_kind, expected = _metadata(fields)
        if expected is not None and expected != received.sha256:
            raise checksum_mismatch(expected, received.sha256)
        async with request_unit_of_work(request) as uow:
            record = service.new_file_record(
                organization_id=service.owner_organization(principal),
                uploaded_by=principal.subject,
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
    "/files/{file_id}",
    response_model=FileOut,
    tags=["files"],
    summary="A file's metadata (type, size, sha256, DICOM study and series)",
    description=f"Yours, or with consult's read grant in `{GRANT_HEADER}`.",
    responses=READ_ERRORS,
    dependencies=client_scopes(service.READ_SCOPE),
)
async def get_file(
    uow: UnitOfWorkDep, principal: CurrentPrincipal, grant: GrantDep, file_id: FileId
) -> FileOut:
    record = await service.load_file(uow, principal, file_id, "file.read", grant)
    service.audit(uow, "file.read", file_id)
    return FileOut.model_validate(record)


@router.get(
    "/files/{file_id}/content",
    tags=["files"],
    summary="The file's bytes; `Range` gives 206 partial content",
    description=f"Yours, or with consult's read grant in `{GRANT_HEADER}` or as `?grant=`.",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/octet-stream": {}}},
        206: {"description": "Partial content"},
        **problem_responses(401, 403, 404, 416),
    },
    dependencies=client_scopes(service.READ_SCOPE),
)
async def download(
    request: Request,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    grant: DownloadGrantDep,
    store: StoreDep,
    file_id: FileId,
    inline: Annotated[bool, Query(description="Show PDFs, images and video in the tab")] = False,
) -> StreamingResponse:
    record = await service.load_file(uow, principal, file_id, "file.download", grant)
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
    description=f"Readable as the file itself is (yours, or with consult's read grant in "
    f"`{GRANT_HEADER}` or as `?grant=`). Made on the fly: the header's identifying "
    "attributes are removed or blanked and its UIDs replaced consistently; the pixels are "
    "the original's. A file that is not DICOM is a 409; one you may not read is a 404.",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/dicom": {}}},
        **problem_responses(401, 403, 404, 409),
    },
    dependencies=client_scopes(service.READ_SCOPE),
)
async def download_deidentified(
    request: Request,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    grant: DownloadGrantDep,
    store: StoreDep,
    file_id: FileId,
) -> StreamingResponse:
    record = await service.load_file(uow, principal, file_id, "file.download", grant)
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
    description=f"For whoever may read the file (yours, or with consult's read grant in "
    f"`{GRANT_HEADER}`), to hand a viewer or a DICOM workstation a plain URL. A lifetime over "
    "the service's maximum is a 422; `deidentified` on a file that is not DICOM is a 409. "
    "Creating the link is audited, and so is every download through it.",
    responses=problem_responses(401, 403, 404, 409, 422),
    dependencies=client_scopes(service.READ_SCOPE),
)
async def create_link(
    body: LinkRequest,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    grant: GrantDep,
    settings: SettingsDep,
    store: StoreDep,
    request: Request,
    file_id: FileId,
) -> LinkOut:
    record = await service.load_file(uow, principal, file_id, "file.link", grant)
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
    description="The URL `POST /files/{file_id}/link` returned, opened as it is; `Range` "
    "gives 206 partial content. An expired or altered link, or one to a file deleted since, "
    "is a 404. Each download is audited against the file.",
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


@router.put(
    "/files/{file_id}/case",
    response_model=FileOut,
    tags=["files"],
    summary="Pin your file to a case (consult calls this once the case is stored)",
    description=f"Needs consult's `case.pin` grant in `{GRANT_HEADER}`, naming you, this file "
    "and the case, and your own complete file. Pinning again to the same case answers the "
    "same; a file pinned to another case is a 409. Clients attach files by listing them in "
    "a case's `attachment_ids` in consult, which makes this call.",
    responses=problem_responses(401, 403, 404, 409, 422),
    dependencies=client_scopes(service.WRITE_SCOPE),
)
async def pin_file(
    body: PinRequest,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    grant: GrantDep,
    file_id: FileId,
) -> FileOut:
    record = await service.pin(uow, principal, file_id, body.case_id, grant)
    return FileOut.model_validate(record)


@router.delete(
    "/files/{file_id}",
    status_code=204,
    tags=["files"],
    summary="Delete a file (kept for the retention period, then purged; not under legal hold)",
    description="For the uploader and staff of the owning organisation; a file of another "
    "organisation is a 404, as is a file already deleted. The file disappears at once and "
    "its bytes are purged after the retention period. A file under a legal hold is a 409.",
    responses=problem_responses(401, 403, 404, 409),
    dependencies=client_scopes(service.WRITE_SCOPE),
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
    description="A held file cannot be deleted (409), and one deleted before the hold is kept "
    "instead of purged. Only the owning organisation's coordinators and administrators may "
    "change the hold; to anyone else the file is a 404. The reason is kept in the audit trail.",
    responses=problem_responses(401, 403, 404, 422),
)
async def legal_hold(
    body: LegalHoldRequest, uow: UnitOfWorkDep, principal: CurrentPrincipal, file_id: FileId
) -> FileOut:
    record = await service.set_legal_hold(uow, principal, file_id, body.hold, body.reason)
    return FileOut.model_validate(record)
