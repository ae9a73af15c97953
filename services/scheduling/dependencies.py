"""FastAPI dependencies of the scheduling routes: settings, the clock, directory look-ups,
the video service."""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from gateway.client import DirectoryClient, Organization
from services.common.auth import bearer_token
from services.common.errors import Forbidden, NotFound, Unprocessable
from services.consult.client import ConsultClient
from services.scheduling.appointments import ZoneLookup
from services.scheduling.episodes import CaseCheck
from services.scheduling.rooms import VideoRooms
from services.scheduling.schedules import OrganizationLookup
from services.scheduling.settings import SchedulingSettings

PREFIX = "/api/scheduling"


def _settings(request: Request) -> SchedulingSettings:
    settings: SchedulingSettings = request.app.state.settings
    return settings


def _now(request: Request) -> datetime:
    """The service's clock; tests replace `app.state.clock` to move time."""
    now: datetime = request.app.state.clock()
    return now


def _organizations(request: Request) -> OrganizationLookup:
    """Directory look-ups made with the caller's own token, so the gateway applies its rules."""
    directory: DirectoryClient = request.app.state.directory
    token = bearer_token(request)

    async def lookup(organization_id: uuid.UUID) -> Organization:
        return await directory.get_organization(organization_id, token)

    return lookup


def _zones(request: Request) -> ZoneLookup:
    organizations = _organizations(request)

    async def zone(organization_id: uuid.UUID) -> str:
        return (await organizations(organization_id)).timezone

    return zone


def _case_check(request: Request) -> CaseCheck:
    """Asks the consult service, as the caller, whether a case exists and is theirs to see."""
    consult = ConsultClient(request.app.state.gateway_client)
    token = bearer_token(request)

    async def check(case_id: uuid.UUID) -> None:
        try:
            await consult.get_case(case_id, token)
        except (NotFound, Forbidden) as exc:
            raise Unprocessable(
                f"No consultation case {case_id} is visible to you.", case_id=str(case_id)
            ) from exc

    return check


def _rooms(request: Request) -> VideoRooms:
    rooms: VideoRooms = request.app.state.video_rooms
    return rooms


SettingsDep = Annotated[SchedulingSettings, Depends(_settings)]
CaseCheckDep = Annotated[CaseCheck, Depends(_case_check)]
NowDep = Annotated[datetime, Depends(_now)]
OrganizationsDep = Annotated[OrganizationLookup, Depends(_organizations)]
ZonesDep = Annotated[ZoneLookup, Depends(_zones)]
RoomsDep = Annotated[VideoRooms, Depends(_rooms)]
