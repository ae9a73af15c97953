"""FastAPI dependencies of the scheduling routes: settings, the clock, directory look-ups
(organisations, the people a request names, the organisations a caller acts for), consult's
grants, the video service."""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, Request

from gateway.client import DirectoryClient, Organization
from services.common.auth import CurrentPrincipal, Principal, bearer_token
from services.common.grants import GRANT_HEADER, GrantVerifier
from services.common.people import NamedPerson, PersonLookup
from services.scheduling.access import is_staff
from services.scheduling.appointments import ZoneLookup
from services.scheduling.case_links import CaseLink, case_link
from services.scheduling.rooms import VideoRooms
from services.scheduling.schedules import OrganizationLookup
from services.scheduling.settings import SchedulingSettings

PREFIX = "/api/scheduling"

# Every dependency is `async def`, even those that only read `app.state`: FastAPI runs a plain
# `def` one in its thread pool, and a booking asks for seven; under the availability bench's 50
# booking clients those hand-offs to threads took about 8% of the process's CPU.


async def _settings(request: Request) -> SchedulingSettings:
    settings: SchedulingSettings = request.app.state.settings
    return settings


async def _now(request: Request) -> datetime:
    """The service's clock; tests replace `app.state.clock` to move time."""
    now: datetime = request.app.state.clock()
    return now


async def _organizations(request: Request) -> OrganizationLookup:
    """Directory look-ups made with the caller's own token, so the gateway applies its rules."""
    directory: DirectoryClient = request.app.state.directory
    token = bearer_token(request)

    async def lookup(organization_id: uuid.UUID) -> Organization:
        return await directory.get_organization(organization_id, token)

    return lookup


async def _people(request: Request) -> PersonLookup:
    """Users looked up with the caller's own token, so the directory's visibility rules apply
    before the service's own (`services/common/people.py`)."""
    directory: DirectoryClient = request.app.state.directory
    token = bearer_token(request)

    async def lookup(user_id: uuid.UUID) -> NamedPerson | None:
        return await directory.get_user(user_id, token)

    return lookup


async def _acting(request: Request, principal: CurrentPrincipal) -> Principal:
    """The caller with the organisations theirs serves (`Principal.serves`, a call centre's),
    for whose patients the access rules let staff book and see visits as for their own. Only
    staff act for organisations, so nobody else costs a look-up."""
    if not is_staff(principal):
        return principal
    directory: DirectoryClient = request.app.state.directory
    return await directory.acting(principal, bearer_token(request))


async def _zones(
    organizations: Annotated[OrganizationLookup, Depends(_organizations)],
) -> ZoneLookup:
    async def zone(organization_id: uuid.UUID) -> str:
        return (await organizations(organization_id)).timezone

    return zone


async def _case_link(
    request: Request,
    principal: CurrentPrincipal,
    grant: Annotated[
        str | None,
        Header(
            alias=GRANT_HEADER,
            description="The consult service's `case.link` grant, needed to name a "
            "`consult_case_id`; consult sends it when it links an episode to a case.",
        ),
    ] = None,
) -> CaseLink:
    verifier: GrantVerifier = request.app.state.consult_grants
    return case_link(verifier, principal, grant)


async def _rooms(request: Request) -> VideoRooms:
    rooms: VideoRooms = request.app.state.video_rooms
    return rooms


SettingsDep = Annotated[SchedulingSettings, Depends(_settings)]
ActingPrincipal = Annotated[Principal, Depends(_acting)]
CaseLinkDep = Annotated[CaseLink, Depends(_case_link)]
NowDep = Annotated[datetime, Depends(_now)]
OrganizationsDep = Annotated[OrganizationLookup, Depends(_organizations)]
PeopleDep = Annotated[PersonLookup, Depends(_people)]
ZonesDep = Annotated[ZoneLookup, Depends(_zones)]
RoomsDep = Annotated[VideoRooms, Depends(_rooms)]
