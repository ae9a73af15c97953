"""The dependencies every consult router shares: the path prefix, settings, the clock and the
directory (organisations, and the people a request names). No router imports another router;
they all import this."""

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from gateway.client import DirectoryClient, Organization
from services.common.auth import CurrentPrincipal, Principal, Role, bearer_token
from services.common.people import NamedPerson, PersonLookup
from services.consult.ports import OrganizationLookup
from services.consult.settings import ConsultSettings

PREFIX = "/api/consult"


def _settings(request: Request) -> ConsultSettings:
    settings: ConsultSettings = request.app.state.settings
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


def _people(request: Request) -> PersonLookup:
    """Users looked up with the caller's own token, so the directory's visibility rules apply
    before the domain's own (`services/common/people.py`)."""
    directory: DirectoryClient = request.app.state.directory
    token = bearer_token(request)

    async def lookup(user_id: uuid.UUID) -> NamedPerson | None:
        return await directory.get_user(user_id, token)

    return lookup


async def _acting(request: Request, principal: CurrentPrincipal) -> Principal:
    """The caller with the organisations theirs serves (`Principal.serves`, a call centre's),
    for whose callers coordinators and registrars act; nobody else costs a look-up."""
    if principal.role not in {Role.COORDINATOR, Role.REGISTRAR}:
        return principal
    directory: DirectoryClient = request.app.state.directory
    return await directory.acting(principal, bearer_token(request))


def _wake_outbound(request: Request) -> Callable[[], None]:
    """Wakes the courier of outgoing chat messages (`app.state.wake_outbound`, set where the
    app composes it), so a reply leaves as soon as it is stored, not at the next poll."""
    wake: Callable[[], None] = getattr(request.app.state, "wake_outbound", lambda: None)
    return wake


SettingsDep = Annotated[ConsultSettings, Depends(_settings)]
ActingPrincipal = Annotated[Principal, Depends(_acting)]
NowDep = Annotated[datetime, Depends(_now)]
OrganizationsDep = Annotated[OrganizationLookup, Depends(_organizations)]
PeopleDep = Annotated[PersonLookup, Depends(_people)]
WakeOutboundDep = Annotated[Callable[[], None], Depends(_wake_outbound)]
