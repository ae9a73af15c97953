"""Rules of the files service: who may upload, read, pin, delete or hold a file.

A file is visible to its uploader's organisation (a patient's own upload, to that patient) and
to whoever holds a consult grant naming it. Only consult decides which files belong to a case:
a file is pinned to one with its owner's token and consult's grant, never on a caller's word.
Everything else is a 404, so ids reveal nothing.
"""

import uuid
from datetime import timedelta

from sqlalchemy import update

from services.common.audit import Outcome
from services.common.auth import Principal, Role, require_client_scope
from services.common.db import utcnow
from services.common.errors import Conflict, Forbidden, NotFound, Unprocessable
from services.common.grants import GRANT_HEADER
from services.common.uow import UnitOfWork
from services.files.access import PresentedGrant, lets_pin, lets_read
from services.files.client import PIN_PURPOSE, READ_PURPOSE
from services.files.enums import FileKind
from services.files.models import StoredFile
from services.files.receive import Received

RESOURCE = "file"
READ_SCOPE = "files:read"
WRITE_SCOPE = "files:write"
UPLOADER_ROLES = frozenset(
    {Role.DISTRICT_MEDIC, Role.SPECIALIST, Role.COORDINATOR, Role.PATIENT, Role.API_CLIENT}
)


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
    """The organisation whose files the caller holds as their own: staff and API clients who
    upload for it. Patients hold only what they uploaded; registrars (registry staff, no
    clinical work) and anyone else, nothing of their organisation's."""
    if principal.role is Role.PATIENT or principal.role not in UPLOADER_ROLES:
        return None
    return principal.organization_id


def owns(principal: Principal, record: StoredFile) -> bool:
    if record.uploaded_by == principal.subject:
        return True
    organization = owner_organization(principal)
    return organization is not None and record.organization_id == organization


def case_id_refused(where: str) -> Unprocessable:
    """Files no longer take a case from their uploader: only consult binds a file to a case."""
    return Unprocessable(
        f"`case_id` is not accepted {where}: a file joins a case through the consult service. "
        "Upload it, then list its id in the case's `attachment_ids` (`POST` or `PATCH "
        "/api/consult/cases`); consult pins it to the case once the case is stored.",
        parameter="case_id",
    )


def _not_found() -> NotFound:
    return NotFound("No such file is visible to you.")


async def load_file(
    uow: UnitOfWork,
    principal: Principal,
    file_id: uuid.UUID,
    action: str,
    grant: PresentedGrant | None = None,
    *,
    owner_only: bool = False,
) -> StoredFile:
    """The file if the caller owns it, or (unless `owner_only`) holds a consult read grant
    naming it; else 404. A grant that is not genuine, current and the caller's is a 403."""
    try:
        require_scope(principal, write=owner_only)
    except Forbidden as error:
        uow.audit.refuse(action, RESOURCE, file_id, error)
    record = await uow.session.get(StoredFile, file_id)
    if record is None or record.deleted_at is not None:
        uow.audit.refuse(action, RESOURCE, file_id, _not_found())
    if owns(principal, record):
        return record
    if owner_only or grant is None:
        uow.audit.refuse(action, RESOURCE, file_id, _not_found())
    try:
        checked = grant.check(principal, READ_PURPOSE)
    except Forbidden as error:
        uow.audit.refuse(action, RESOURCE, file_id, error)
    if not lets_read(checked, record):
        uow.audit.refuse(action, RESOURCE, file_id, _not_found())
    return record


async def pin(
    uow: UnitOfWork,
    principal: Principal,
    file_id: uuid.UUID,
    case_id: uuid.UUID,
    grant: PresentedGrant | None,
) -> StoredFile:
    """Binds the caller's own file to a case, as consult's `case.pin` grant for this caller,
    file and case allows. Again to the same case changes nothing; to another is a 409."""
    action = "file.pin"
    try:
        if grant is None:
            raise Forbidden(f"Pinning a file to a case takes consult's grant in `{GRANT_HEADER}`.")
        if not lets_pin(grant.check(principal, PIN_PURPOSE), file_id, case_id):
            raise Forbidden("The grant does not name this file and this case.")
    except Forbidden as error:
        uow.audit.refuse(action, RESOURCE, file_id, error)
    record = await load_file(uow, principal, file_id, action, owner_only=True)
    if record.case_id != case_id:
        # Conditional, so two pins racing to different cases cannot both win.
        pinned = await uow.session.execute(
            update(StoredFile)
            .where(StoredFile.id == file_id, StoredFile.case_id.is_(None))
            .values(case_id=case_id)
            .execution_options(synchronize_session=False)
        )
        if pinned.rowcount != 1:  # type: ignore[attr-defined]
            refusal = Conflict("This file is pinned to another case.")
            uow.audit.refuse(action, RESOURCE, file_id, refusal)
        await uow.session.refresh(record)
    audit(uow, action, file_id, detail=f"case {case_id}")
    return record


async def soft_delete(
    uow: UnitOfWork, principal: Principal, file_id: uuid.UUID, retention: timedelta
) -> None:
    record = await load_file(uow, principal, file_id, "file.delete", owner_only=True)
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
    kind: FileKind,
    display_name: str,
    received: Received,
) -> StoredFile:
    """The record of bytes already stored and checked, by either upload path."""
    return StoredFile(
        id=uuid.uuid4(),
        organization_id=organization_id,
        uploaded_by=uploaded_by,
        kind=kind,
        display_name=display_name,
        media_type=received.media_type,
        size=received.size,
        sha256=received.sha256,
        object_key=received.key,
        dicom=received.dicom,
        legal_hold=False,
    )
