"""tus 1.0 over HTTP under `/api/files/uploads`: core, creation, creation-with-upload,
termination, checksum and expiration, so stock tus clients resume uploads over bad links."""

import base64
import binascii
import re
import uuid
from email.utils import format_datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from sqlalchemy import update

from services.common.auth import CurrentPrincipal, Principal
from services.common.db import Database, utcnow
from services.common.errors import (
    BadRequest,
    Conflict,
    PreconditionFailed,
    Unprocessable,
    UnsupportedMediaType,
    problem_responses,
)
from services.common.openapi import client_scopes
from services.common.uow import request_unit_of_work
from services.files import service
from services.files.enums import FileKind, UploadStatus
from services.files.ingest import too_large
from services.files.models import Upload
from services.files.names import display_name
from services.files.patches import Patch, RequestChecksum
from services.files.receive import Received
from services.files.resumable import (
    FREE,
    HasherCache,
    acquire_lease,
    check_usable,
    discard_stored,
    holding,
    not_found,
)
from services.files.schemas import SHA256_PATTERN, UploadOut
from services.files.settings import FilesSettings
from services.files.tus_openapi import (
    APPEND,
    CHECKSUM_SIZES,
    CREATE,
    OFFSET_TYPE,
    STATUS,
    TERMINATE,
    TUS_VERSION,
)

EXTENSIONS = "creation,creation-with-upload,termination,checksum,expiration"
PREFIX = "/api/files/uploads"
SHA256_RE = re.compile(SHA256_PATTERN)
router = APIRouter(prefix=PREFIX, tags=["resumable uploads (tus 1.0)"])
UploadId = Annotated[uuid.UUID, Path(description="The upload's id, from `Location`.")]


def _require_tus(request: Request) -> None:
    if request.headers.get("tus-resumable") != TUS_VERSION:
        raise PreconditionFailed(
            f"Send `Tus-Resumable: {TUS_VERSION}`.", headers={"Tus-Version": TUS_VERSION}
        )


def _integer_header(request: Request, name: str) -> int:
    value = request.headers.get(name, "")
    if not value.isdigit():
        raise BadRequest(f"`{name}` must be a non-negative integer.")
    return int(value)


def _parse_metadata(header: str) -> dict[str, str]:
    """`Upload-Metadata`: comma-separated `key base64(value)` pairs, keys unique."""
    metadata: dict[str, str] = {}
    for pair in filter(None, (item.strip() for item in header.split(","))):
        key, _, encoded = pair.partition(" ")
        if not key or key in metadata:
            raise BadRequest("`Upload-Metadata` has an empty or repeated key.")
        try:
            metadata[key] = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise BadRequest(f"`Upload-Metadata` value of {key!r} is not base64 UTF-8.") from exc
    return metadata


def _parse_checksum(request: Request) -> RequestChecksum | None:
    header = request.headers.get("upload-checksum")
    if header is None:
        return None
    algorithm, _, encoded = header.strip().partition(" ")
    if algorithm not in CHECKSUM_SIZES:
        raise BadRequest(f"Checksum algorithm {algorithm!r} is not supported.")
    try:
        digest = base64.b64decode(encoded, validate=True)
    except binascii.Error as exc:
        raise BadRequest("`Upload-Checksum` is not base64.") from exc
    if len(digest) != CHECKSUM_SIZES[algorithm]:
        raise BadRequest(f"`Upload-Checksum` is not a {algorithm} digest.")
    return RequestChecksum(algorithm, digest)


def _expires(upload: Upload) -> str:
    return format_datetime(upload.expires_at, usegmt=True)


def _settings(request: Request) -> FilesSettings:
    settings: FilesSettings = request.app.state.settings
    return settings


def _upload_from_metadata(
    principal: Principal, settings: FilesSettings, length: int, metadata: dict[str, str]
) -> Upload:
    if "case_id" in metadata:
        raise service.case_id_refused("in `Upload-Metadata`")
    try:
        kind = FileKind(metadata.get("kind", FileKind.OTHER))
    except ValueError as exc:
        raise Unprocessable(f"`Upload-Metadata` is not valid: {exc}") from exc
    expected = metadata.get("sha256", "").lower() or None
    if expected is not None and not SHA256_RE.fullmatch(expected):
        raise Unprocessable("`Upload-Metadata` sha256 must be 64 hex digits.")
    return Upload(
        id=uuid.uuid4(),
        organization_id=service.owner_organization(principal),
        uploaded_by=principal.subject,
        kind=kind,
        display_name=display_name(metadata.get("filename")),
        expected_sha256=expected,
        length=length,
        offset=0,
        status=UploadStatus.ACTIVE,
        expires_at=utcnow() + settings.upload_expiry,
        object_key=service.new_object_key(),
        parts=[],
        tail_size=0,
    )


def _protocol_headers(request: Request) -> dict[str, str]:
    return {
        "Tus-Version": TUS_VERSION,
        "Tus-Extension": EXTENSIONS,
        "Tus-Max-Size": str(_settings(request).max_file_size),
        "Tus-Checksum-Algorithm": ",".join(CHECKSUM_SIZES),
    }


@router.options("", include_in_schema=False)
@router.options("/{upload_id}", include_in_schema=False)
async def discover(request: Request) -> Response:
    return Response(status_code=204, headers=_protocol_headers(request))


async def _patch(
    request: Request, principal: Principal, upload_id: uuid.UUID, offset: int
) -> tuple[Upload, int]:
    """Runs one PATCH under the upload's lease; returns the upload as it was and the new offset."""
    app = request.app
    settings = _settings(request)
    database: Database = app.state.database
    lease, upload = await acquire_lease(
        database, upload_id, principal.subject, settings.upload_lease, app.state.lease_holder
    )
    async with holding(database, lease, settings.upload_lease):
        if upload.offset != offset:
            raise Conflict(
                f"`Upload-Offset` is {offset}, but the upload is at {upload.offset}.",
                headers={"Upload-Offset": str(upload.offset)},
            )

        async def complete(done: Received) -> None:
            await _record_completion(request, upload, lease.token, done)

        patch = Patch(app.state.store, database, settings, app.state.hashers, upload, lease)
        new_offset = await patch.apply(request.stream(), _parse_checksum(request), complete)
    return upload, new_offset


async def _record_completion(
    request: Request, upload: Upload, lease_token: uuid.UUID, done: Received
) -> None:
    async with request_unit_of_work(request) as uow:
        record = service.new_file_record(
            organization_id=upload.organization_id,
            uploaded_by=upload.uploaded_by,
            kind=upload.kind,
            display_name=upload.display_name,
            received=done,
        )
        uow.session.add(record)
        finished = await uow.session.execute(
            update(Upload)
            .where(Upload.id == upload.id, Upload.lease_token == lease_token)
            .values(
                status=UploadStatus.COMPLETED,
                offset=done.size,
                file_id=record.id,
                tail_key=None,
                multipart_id=None,
                **FREE,
            )
        )
        if finished.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict("This request lost its hold on the upload; check its state.")
        service.audit(uow, "file.upload", record.id, detail=f"tus upload {upload.id}")
    upload.file_id = record.id


def _file_link(upload: Upload) -> dict[str, str]:
    if upload.file_id is None:
        return {}
    return {"Link": f'</api/files/files/{upload.file_id}>; rel="related"'}


@router.post(
    "",
    status_code=201,
    summary="Create a resumable upload (tus creation, optionally with its first bytes)",
    description="For organisations' staff, API clients with `files:write` and patients. Send "
    "`Tus-Resumable: 1.0.0`, the whole size in `Upload-Length` and, in `Upload-Metadata`, "
    "`filename`, `kind` and `sha256` if known; `Location` is where to send the bytes. A size "
    "over the service's maximum is a 413, a `case_id` in the metadata a 422 (files join a "
    "case through consult).",
    responses=problem_responses(400, 401, 403, 409, 412, 413, 415, 422),
    openapi_extra=CREATE,
    response_class=Response,  # no body, only headers
    dependencies=client_scopes(service.WRITE_SCOPE),
)
async def create_upload(request: Request, principal: CurrentPrincipal) -> Response:
    _require_tus(request)
    settings = _settings(request)
    service.require_uploader(principal)
    if "upload-defer-length" in request.headers:
        raise BadRequest("Deferred lengths are not supported; send `Upload-Length`.")
    length = _integer_header(request, "upload-length")
    if length > settings.max_file_size:
        raise too_large(settings.max_file_size)
    if length == 0:
        raise Unprocessable("The file is empty.")
    upload = _upload_from_metadata(
        principal, settings, length, _parse_metadata(request.headers.get("upload-metadata", ""))
    )
    async with request_unit_of_work(request) as uow:
        uow.session.add(upload)
        service.audit(uow, "upload.create", upload.id, detail=f"{length} bytes")
    headers = {"Location": f"{PREFIX}/{upload.id}", "Upload-Expires": _expires(upload)}
    if request.headers.get("content-type") == OFFSET_TYPE:
        upload, offset = await _patch(request, principal, upload.id, 0)
        headers |= {"Upload-Offset": str(offset)} | _file_link(upload)
    return Response(status_code=201, headers=headers)


@router.head(
    "/{upload_id}",
    summary="Where an upload stands (tus)",
    responses=problem_responses(404, 410, 412),
    openapi_extra=STATUS,
    response_class=Response,  # no body, only headers
)
async def upload_offset(
    request: Request, principal: CurrentPrincipal, upload_id: UploadId
) -> Response:
    _require_tus(request)
    upload = await _own_upload(request, principal, upload_id)
    headers = {
        "Upload-Offset": str(upload.offset),
        "Upload-Length": str(upload.length),
        "Cache-Control": "no-store",
    }
    if upload.status is UploadStatus.ACTIVE:
        headers["Upload-Expires"] = _expires(upload)
    return Response(status_code=200, headers=headers | _file_link(upload))


@router.patch(
    "/{upload_id}",
    status_code=204,
    summary="Append bytes at `Upload-Offset` (tus)",
    description="Only the uploader appends, one request at a time. An offset other than the "
    "upload's is a 409 carrying the right `Upload-Offset`; an `Upload-Checksum` that does not "
    "match is a 460 and nothing of the request is kept. The last bytes store the file: its "
    "id comes in `Link` (and in `GET`); an expired upload is a 410.",
    responses=problem_responses(400, 404, 409, 410, 412, 413, 415, 460),
    openapi_extra=APPEND,
)
async def append(request: Request, principal: CurrentPrincipal, upload_id: UploadId) -> Response:
    _require_tus(request)
    if request.headers.get("content-type") != OFFSET_TYPE:
        raise UnsupportedMediaType(f"A PATCH body must be `{OFFSET_TYPE}`.")
    offset = _integer_header(request, "upload-offset")
    _parse_checksum(request)  # a malformed header fails before any byte is read
    upload, new_offset = await _patch(request, principal, upload_id, offset)
    headers = {"Upload-Offset": str(new_offset)} | _file_link(upload)
    if upload.file_id is None:
        headers["Upload-Expires"] = format_datetime(
            utcnow() + _settings(request).upload_expiry, usegmt=True
        )
    return Response(status_code=204, headers=headers)


@router.delete(
    "/{upload_id}",
    status_code=204,
    summary="Abandon an upload and free what it stored (tus termination)",
    description="Only the uploader terminates; afterwards the upload is a 404. An upload "
    "another request is appending to is a 409; retry once it ends.",
    responses=problem_responses(404, 409, 410, 412),
    openapi_extra=TERMINATE,
)
async def terminate(request: Request, principal: CurrentPrincipal, upload_id: UploadId) -> Response:
    _require_tus(request)
    database: Database = request.app.state.database
    lifetime = _settings(request).upload_lease
    lease, upload = await acquire_lease(
        database, upload_id, principal.subject, lifetime, request.app.state.lease_holder
    )
    async with holding(database, lease, lifetime):
        await discard_stored(request.app.state.store, upload)
        async with request_unit_of_work(request) as uow:
            await uow.session.execute(
                update(Upload)
                .where(Upload.id == upload_id, Upload.lease_token == lease.token)
                .values(status=UploadStatus.TERMINATED, tail_key=None, multipart_id=None)
            )
            service.audit(uow, "upload.terminate", upload_id)
    hashers: HasherCache = request.app.state.hashers
    hashers.forget(upload_id)
    return Response(status_code=204)


@router.get(
    "/{upload_id}",
    summary="An upload's state as JSON, with the file id once complete",
    description="For the uploader only (anyone else gets a 404): the offset reached, the "
    "status and, once complete, `file_id` to use in a case's `attachment_ids`. An expired or "
    "rejected upload is a 410.",
    responses=problem_responses(401, 404, 410),
)
async def upload_state(
    request: Request, principal: CurrentPrincipal, upload_id: UploadId
) -> UploadOut:
    return UploadOut.model_validate(await _own_upload(request, principal, upload_id))


async def _own_upload(request: Request, principal: Principal, upload_id: uuid.UUID) -> Upload:
    async with request_unit_of_work(request) as uow:
        upload = await uow.session.get(Upload, upload_id)
        if upload is None or upload.uploaded_by != principal.subject:
            raise not_found()
        if upload.status is not UploadStatus.COMPLETED:
            check_usable(upload, utcnow())
        return upload
