"""The recording of an appeal's call, played in the appeal's page or downloaded: its bytes
streamed through the console with consult's grant, as a case's attachments are (the browser
never holds a link of the files service)."""

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from services.common.errors import NotFound
from web.appeals.api import AppealsApiDep
from web.cases.attachments import stream_file
from web.deps import SignedInDep

router = APIRouter(include_in_schema=False)


@router.get("/appeals/{appeal_id}/recordings/{file_id}")
async def recording(
    request: Request,
    appeal_id: uuid.UUID,
    file_id: uuid.UUID,
    signed_in: SignedInDep,
    api: AppealsApiDep,
    download: bool = False,
) -> StreamingResponse:
    """The audio: inline for the page's player, an attachment with `download`."""
    token = signed_in.access_token
    grant = await api.recordings_grant(token, appeal_id)  # the appeal's operators only
    if file_id not in grant.file_ids:
        raise NotFound("This appeal's calls have no such recording.")
    tail = "content" if download else "content?inline=true"
    return await stream_file(request, api, token, f"{file_id}/{tail}", grant.grant)
