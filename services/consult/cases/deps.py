"""Dependencies of the case routers (cases, patients' requests, consilia): the conclusion signer
and the files port."""

import uuid
from typing import Annotated

from fastapi import Depends, Request

from services.common.auth import CurrentPrincipal, bearer_token
from services.common.errors import Conflict
from services.common.grants import GrantIssuer
from services.consult.cases.schemas import Attachment
from services.consult.cases.service import AttachFile
from services.consult.cases.signing import ConclusionSigner
from services.files.client import GRANT_AUDIENCE, PIN_PURPOSE, FilesClient

# A pin is made at once, right after the commit: its grant need not outlive that call.
PIN_GRANT_SECONDS = 60


def _signer(request: Request) -> ConclusionSigner:
    signer: ConclusionSigner = request.app.state.conclusion_signer
    return signer


def _grants(request: Request) -> GrantIssuer:
    grants: GrantIssuer = request.app.state.grants
    return grants


GrantsDep = Annotated[GrantIssuer, Depends(_grants)]


def _attach_file(request: Request, principal: CurrentPrincipal, grants: GrantsDep) -> AttachFile:
    """The files service as the caller: it shows them only their own organisation's complete
    files, and pins one only with consult's grant naming them, the file and the case."""
    files: FilesClient = request.app.state.files
    token = bearer_token(request)

    async def check(file_id: uuid.UUID, case_id: uuid.UUID) -> Attachment:
        stored = await files.get_file(file_id, token)
        if stored.case_id not in (None, case_id):
            raise Conflict(f"File {file_id} belongs to another case.", file_id=str(file_id))
        return Attachment(
            id=stored.id,
            display_name=stored.display_name,
            kind=stored.kind,
            media_type=stored.media_type,
            size=stored.size,
            sha256=stored.sha256,
            modality=stored.dicom.modality if stored.dicom else None,
            stored_at=stored.created_at,
        )

    async def pin(file_id: uuid.UUID, case_id: uuid.UUID) -> None:
        grant, _ = grants.issue(
            audience=GRANT_AUDIENCE, subject=principal.subject, purpose=PIN_PURPOSE,
            case_id=case_id, file_ids=[file_id], ttl_seconds=PIN_GRANT_SECONDS,
        )  # fmt: skip
        await files.pin(file_id, case_id, token, grant)

    return AttachFile(check=check, pin=pin)


AttachFileDep = Annotated[AttachFile, Depends(_attach_file)]
SignerDep = Annotated[ConclusionSigner, Depends(_signer)]
