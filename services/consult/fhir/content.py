"""A case's file's bytes for whoever reads the case, with their token alone: consult checks
the reader as for the case, then sends them on to the files service with its grant, made for
them and this one file, so the bytes never pass through consult and no one else can use it."""

import uuid
from urllib.parse import urlencode

from services.common.auth import Principal
from services.common.grants import GrantIssuer
from services.common.uow import UnitOfWork
from services.consult.cases.transitions import audit
from services.consult.fhir.search import get_document
from services.files.client import GRANT_AUDIENCE, READ_PURPOSE

# Long enough for a client to follow the redirect, the time a large download takes aside:
# the files service checks the grant as the transfer starts.
REDIRECT_GRANT_SECONDS = 60


async def content_location(
    uow: UnitOfWork, principal: Principal, file_id: uuid.UUID, grants: GrantIssuer
) -> str:
    """Where the reader fetches the file: its content at the files service, with the grant
    (`?grant=`, which the files service takes only with the reader's own token)."""
    attachment, case = await get_document(uow, principal, file_id)
    token, _ = grants.issue(
        audience=GRANT_AUDIENCE,
        subject=principal.subject,
        purpose=READ_PURPOSE,
        case_id=case.id,
        file_ids=[attachment.id],
        ttl_seconds=REDIRECT_GRANT_SECONDS,
    )
    audit(uow, "case.attachments_grant", case.id, detail=f"FHIR content of file {file_id}")
    return f"/api/files/files/{attachment.id}/content?{urlencode({'grant': token})}"
