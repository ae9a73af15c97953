"""Rules of the files service: who may upload, read, attach, delete or hold a file.

A file is visible to its uploader's organisation (a patient's own upload, to that patient) and
to whoever may read the case it is attached to; the consult service decides the latter, asked
with the caller's own token. Everything else is a 404, so ids reveal nothing.
"""

import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import select

from services.common.audit import Outcome
from services.common.auth import Principal, Role, require_client_scope
from services.common.db import utcnow
from services.common.errors import Conflict, Forbidden, NotFound
from services.common.uow import UnitOfWork
from services.files.enums import FileKind
from services.files.models import StoredFile
from services.files.receive import Received

RESOURCE = "file"
READ_SCOPE = "files:read"
WRITE_SCOPE = "files:write"
UPLOADER_ROLES = frozenset(
    {Role.DISTRICT_MEDIC, Role.SPECIALIST, Role.COORDINATOR, Role.PATIENT, Role.API_CLIENT}
)
# May the caller read this case? Answered by the consult service.
CaseAccess = Callable[[uuid.UUID], Awaitable[bool]]


def audit(
    uow: UnitOfWork,
    action: str,
    file_id: uuid.UUID | None,
    outcome: Outcome = Outcome.SUCCESS,
    detail: str | None = None,
) -> None:
    uow.audit.record(action, RESOURCE, file_id, outcome, detail=detail)


def require_scope(principal: Principal, *, write: bool) -> None:
    require_client_scope(principal, WRITE_SCOPE if write else READ_SCOPE)


def require_uploader(principal: Principal) -> None:
    """Staff of an organisation, API clients with `files:write`, and patients may upload."""
    require_scope(principal, write=True)
    if principal.role not in UPLOADER_ROLES:
        raise Forbidden("Your role does not upload files.")
    if principal.role is not Role.PATIENT and principal.organization_id is None:
        raise Forbidden("Only members of an organisation upload files for it.")


def owner_organization(principal: Principal) -> uuid.UUID | None:
    return None if principal.role is Role.PATIENT else principal.organization_id


def owns(principal: Principal, record: StoredFile) -> bool:
    if record.uploaded_by == principal.subject:
        return True
    organization = owner_organization(principal)
    return organization is not None and record.organization_id == organization


async def can_read(principal: Principal, record: StoredFile, case_access: CaseAccess) -> bool:
    if owns(principal, record):
        return True
    return record.case_id is not None and await case_access(record.case_id)


def _not_found() -> NotFound:
    return NotFound("No such file is visible to you.")


async def load_file(
    uow: UnitOfWork,
    principal: Principal,
    file_id: uuid.UUID,
    action: str,
    case_access: CaseAccess,
    *,
    owner_only: bool = False,
) -> StoredFile:
    """The file if the caller may read it (or owns it, with `owner_only`), else 404."""
    try:
        require_scope(principal, write=owner_only)
    except Forbidden as error:
        uow.audit.refuse(action, RESOURCE, file_id, error)
    record = await uow.session.get(StoredFile, file_id)
    if record is None or record.deleted_at is not None:
        uow.audit.refuse(action, RESOURCE, file_id, _not_found())
    allowed = (
        owns(principal, record) if owner_only else await can_read(principal, record, case_access)
    )
    if not allowed:
        uow.audit.refuse(action, RESOURCE, file_id, _not_found())
    return record


async def list_case_files(
    uow: UnitOfWork, principal: Principal, case_id: uuid.UUID, case_access: CaseAccess
) -> list[StoredFile]:
    """A case's files: all of them for readers of the case, else only the caller's own."""
    require_scope(principal, write=False)
    query = (
        select(StoredFile)
        .where(StoredFile.case_id == case_id, StoredFile.deleted_at.is_(None))
        .order_by(StoredFile.created_at, StoredFile.id)
    )
    records = list((await uow.session.scalars(query)).all())
    if not await case_access(case_id):
        records = [record for record in records if owns(principal, record)]
    audit(uow, "file.list", None, detail=f"case {case_id}: {len(records)} files")
    return records


async def attach(
    uow: UnitOfWork, principal: Principal, file_id: uuid.UUID, case_id: uuid.UUID
) -> StoredFile:
    """Marks the owner's file as part of a case (the consult service calls this when a case
    lists it). Not checked with consult: attaching can only widen access to one's own file,
    and asking consult here would call back into a service that is waiting on us."""
    record = await load_file(uow, principal, file_id, "file.attach", _nobody, owner_only=True)
    if record.case_id not in (None, case_id):
        uow.audit.refuse(
            "file.attach", RESOURCE, file_id, Conflict("This file belongs to another case.")
        )
    record.case_id = case_id
    audit(uow, "file.attach", file_id, detail=f"case {case_id}")
    return record


async def _nobody(case_id: uuid.UUID) -> bool:
    return False


async def soft_delete(
    uow: UnitOfWork, principal: Principal, file_id: uuid.UUID, retention: timedelta
) -> None:
    record = await load_file(uow, principal, file_id, "file.delete", _nobody, owner_only=True)
    if record.legal_hold:
        uow.audit.refuse(
            "file.delete", RESOURCE, file_id, Conflict("This file is under a legal hold.")
        )
    now = utcnow()
    record.deleted_at = now
    record.deleted_by = principal.subject
    record.purge_after = now + retention
    audit(uow, "file.delete", file_id, detail=f"purged after {record.purge_after.isoformat()}")


async def set_legal_hold(
    uow: UnitOfWork, principal: Principal, file_id: uuid.UUID, hold: bool, reason: str
) -> StoredFile:
    """Coordinators of the owning organisation and administrators place and lift holds."""
    action = "file.legal_hold" if hold else "file.legal_hold_lifted"
    record = await uow.session.get(StoredFile, file_id)
    if record is None or record.purged_at is not None:
        uow.audit.refuse(action, RESOURCE, file_id, _not_found())
    allowed = principal.role is Role.ADMIN or (
        principal.role is Role.COORDINATOR and owns(principal, record)
    )
    if not allowed:
        uow.audit.refuse(action, RESOURCE, file_id, _not_found())
    record.legal_hold = hold
    if hold and record.deleted_at is not None:
        record.purge_after = None  # a held file is kept, even when already deleted
    audit(uow, action, file_id, detail=reason)
    return record


def new_object_key() -> str:
    return f"f/{uuid.uuid4().hex}"


def new_file_record(
    *,
    organization_id: uuid.UUID | None,
    uploaded_by: uuid.UUID,
    case_id: uuid.UUID | None,
    kind: FileKind,
    display_name: str,
    received: Received,
) -> StoredFile:
    """The record of bytes already stored and checked, by either upload path."""
    return StoredFile(
        id=uuid.uuid4(),
        organization_id=organization_id,
        uploaded_by=uploaded_by,
        case_id=case_id,
        kind=kind,
        display_name=display_name,
        media_type=received.media_type,
        size=received.size,
        sha256=received.sha256,
        object_key=received.key,
        dicom=received.dicom,
        legal_hold=False,
    )
