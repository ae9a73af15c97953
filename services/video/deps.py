"""Request dependencies of the video routes: the live runtime, the join token's claims and the
directory's users."""

import uuid
from typing import Annotated

from fastapi import Depends, Request

from gateway.client import DirectoryClient
from services.common.auth import bearer_token
from services.common.errors import Unauthorized
from services.common.people import NamedPerson, PersonLookup
from services.video.live import Live
from services.video.tokens import JoinClaims


def live(request: Request) -> Live:
    runtime: Live = request.app.state.live
    return runtime


def people(request: Request) -> PersonLookup:
    """Users looked up with the caller's own token, so the directory's visibility rules apply
    before the service's own (`services/common/people.py`)."""
    directory: DirectoryClient = request.app.state.directory
    token = bearer_token(request)

    async def lookup(user_id: uuid.UUID) -> NamedPerson | None:
        return await directory.get_user(user_id, token)

    return lookup


def join_claims(request: Request, room_id: uuid.UUID) -> JoinClaims:
    """The bearer join token of the path's room; EventSource cannot send headers, so the
    event stream may carry it as `?token=` instead."""
    token = request.query_params.get("token")
    if token is None:
        try:
            token = bearer_token(request)
        except Unauthorized as exc:
            raise Unauthorized("A room join token is required.") from exc
    return live(request).tokens.verify(token, room_id)


LiveDep = Annotated[Live, Depends(live)]
JoinDep = Annotated[JoinClaims, Depends(join_claims)]
PeopleDep = Annotated[PersonLookup, Depends(people)]
