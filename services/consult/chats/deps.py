"""Dependencies of the chats' routes: the directory read with consult's own API client (a chat's
server signs no one in), and the adapter of a configured bot."""

import uuid
from typing import Annotated

from fastapi import Depends, Request

from gateway.client import DirectoryClient, Organization
from services.common.credentials import ServiceToken
from services.consult.ports import OrganizationLookup


def _service_organizations(request: Request) -> OrganizationLookup:
    directory: DirectoryClient = request.app.state.directory
    token: ServiceToken = request.app.state.chat_token

    async def lookup(organization_id: uuid.UUID) -> Organization:
        return await directory.get_organization(organization_id, await token.get())

    return lookup


ServiceOrganizationsDep = Annotated[OrganizationLookup, Depends(_service_organizations)]
