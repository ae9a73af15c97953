"""Request dependencies of the wards' routes: the live side, its monitoring job, the watch
token's claims and the directory's organisations."""

import uuid
from typing import Annotated

from fastapi import Depends, Request

from gateway.client import DirectoryClient
from services.common.auth import bearer_token
from services.common.errors import NotFound, Unauthorized
from services.video.deps import live
from services.video.tokens import JoinClaims
from services.video.wards.live import WardsLive
from services.video.wards.monitor import Monitor
from services.video.wards.service import OrganizationExists


def wards_live(request: Request) -> WardsLive:
    runtime: WardsLive = request.app.state.wards
    return runtime


def monitor(request: Request) -> Monitor:
    job: Monitor = request.app.state.ward_monitor
    return job


def organization_exists(request: Request) -> OrganizationExists:
    """Asked of the directory with the caller's token, as every named organisation is."""
    directory: DirectoryClient = request.app.state.directory
    token = bearer_token(request)

    async def exists(organization_id: uuid.UUID) -> bool:
        try:
            await directory.get_organization(organization_id, token)
        except NotFound:
            return False
        return True

    return exists


def watch_claims(request: Request, ward_id: uuid.UUID) -> JoinClaims:
    """The bearer watch token of the path's ward (a join token whose room is the ward)."""
    try:
        token = bearer_token(request)
    except Unauthorized as exc:
        raise Unauthorized("The ward's watch token is required.") from exc
    return live(request).tokens.verify(token, ward_id)


WardsLiveDep = Annotated[WardsLive, Depends(wards_live)]
MonitorDep = Annotated[Monitor, Depends(monitor)]
OrganizationExistsDep = Annotated[OrganizationExists, Depends(organization_exists)]
WatchDep = Annotated[JoinClaims, Depends(watch_claims)]
