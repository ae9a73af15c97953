"""Dependencies of the case routers (cases, patients' requests, consilia): the conclusion signer
and the files port."""

import uuid
from typing import Annotated

from fastapi import Depends, Request

from services.common.auth import bearer_token
from services.common.grants import GrantIssuer
from services.consult.cases.schemas import Attachment
from services.consult.cases.service import AttachFile
from services.consult.cases.signing import ConclusionSigner
from services.files.client import FilesClient


def _signer(request: Request) -> ConclusionSigner:
    signer: ConclusionSigner = request.app.state.conclusion_signer
    return signer


def _attach_file(request: Request) -> AttachFile:
    """Attaches through the files service with the caller's token, so only their own
    organisation's complete files can be attached."""
    files: FilesClient = request.app.state.files
    token = bearer_token(request)

    async def attach(file_id: uuid.UUID, case_id: uuid.UUID) -> Attachment:
        stored = await files.attach(file_id, case_id, token)
        return Attachment(
            id=stored.id,
            display_name=stored.display_name,
            kind=stored.kind,
            media_type=stored.media_type,
            size=stored.size,
            sha256=stored.sha256,
            modality=stored.dicom.modality if stored.dicom else None,
        )

    return attach


def _grants(request: Request) -> GrantIssuer:
    grants: GrantIssuer = request.app.state.grants
    return grants


GrantsDep = Annotated[GrantIssuer, Depends(_grants)]
AttachFileDep = Annotated[AttachFile, Depends(_attach_file)]
SignerDep = Annotated[ConclusionSigner, Depends(_signer)]
