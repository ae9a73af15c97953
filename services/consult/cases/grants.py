"""The grant a reader of a case gets for its attachments: the files service checks it with
consult's public key, so it never asks consult who may read a case."""

import uuid
from datetime import UTC, datetime

from services.common.auth import Principal
from services.common.grants import GrantIssuer
from services.common.uow import UnitOfWork
from services.consult.cases.schemas import AttachmentsGrant
from services.consult.cases.transitions import audit, load_case
from services.files.client import GRANT_AUDIENCE, READ_PURPOSE


async def attachments_grant(
    uow: UnitOfWork, principal: Principal, case_id: uuid.UUID, grants: GrantIssuer
) -> AttachmentsGrant:
    """For whoever may read the case: a grant naming them, the case and its attachments as
    they are now (a file attached later needs a new grant)."""
    action = "case.attachments_grant"
    case = await load_case(uow, principal, case_id, action)
    file_ids = [uuid.UUID(file_id) for file_id in case.attachment_ids]
    token, expires = grants.issue(
        audience=GRANT_AUDIENCE,
        subject=principal.subject,
        purpose=READ_PURPOSE,
        case_id=case.id,
        file_ids=file_ids,
    )
    expires_at = datetime.fromtimestamp(expires, UTC)
    audit(uow, action, case.id, detail=f"{len(file_ids)} files until {expires_at.isoformat()}")
    return AttachmentsGrant(grant=token, expires_at=expires_at, case_id=case.id, file_ids=file_ids)
