"""OAuth clients in the directory: registered by administrators, a secret shown once."""

import uuid
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select

from gateway.auth import secret_hasher
from gateway.directory.access import require_admin
from gateway.directory.service import find_or_refuse
from gateway.oauth import clients, schemas
from gateway.oauth.models import OAuthClient
from services.common.auth import CurrentPrincipal
from services.common.errors import problem_responses
from services.common.idempotency import ShownOnce, idempotent
from services.common.uow import UnitOfWork, UnitOfWorkDep

router = APIRouter(prefix="/api/directory", tags=["directory"])
SECRET = ShownOnce(
    frozenset({"client_secret"}),
    "Revoke the client (POST /api/directory/oauth-clients/{id}/revoke) and register a new one.",
)


async def _find(uow: UnitOfWork, action: str, oauth_client_id: uuid.UUID) -> OAuthClient:
    return await find_or_refuse(
        uow, OAuthClient, oauth_client_id, action, clients.RESOURCE, "OAuth client"
    )


@router.post(
    "/oauth-clients",
    status_code=201,
    response_model=schemas.OAuthClientCreated,
    summary="Register an OAuth client people sign in to (a secret, if any, is shown once)",
    description="Public clients (`confidential: false`: browser and mobile apps) must use PKCE "
    "(S256); confidential ones get a secret. Send `Idempotency-Key` to retry safely; a retry "
    "after the first answer of a confidential client is a 410 naming it in `created`.",
    responses=problem_responses(401, 403, 410),
)
async def create_oauth_client(
    request: Request,
    body: schemas.OAuthClientCreate,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
) -> Any:
    require_admin(uow, principal, "oauth_client.create", clients.RESOURCE)

    async def create() -> schemas.OAuthClientCreated:
        return await clients.register(uow, secret_hasher(request), body)

    return await idempotent(request, uow.session, principal, body, create, shown_once=SECRET)


@router.get(
    "/oauth-clients",
    response_model=list[schemas.OAuthClient],
    summary="List OAuth clients",
    responses=problem_responses(401, 403),
)
async def list_oauth_clients(
    uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> list[schemas.OAuthClient]:
    """Every OAuth client, revoked ones too (`is_active`), by name; secrets are never shown.
    Administrators only (403 for anyone else)."""
    require_admin(uow, principal, "oauth_client.list", clients.RESOURCE)
    rows = await uow.session.scalars(select(OAuthClient).order_by(OAuthClient.name))
    return [clients.view(row) for row in rows]


@router.put(
    "/oauth-clients/{oauth_client_id}",
    response_model=schemas.OAuthClient,
    summary="Change an OAuth client's name, redirect URIs, scopes and first-party mark",
    responses=problem_responses(401, 403, 404),
)
async def update_oauth_client(
    oauth_client_id: uuid.UUID,
    body: schemas.OAuthClientUpdate,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
) -> schemas.OAuthClient:
    """A scope taken away is no longer granted from the next sign-in on; sign-ins already
    made keep what they were given until they end."""
    require_admin(uow, principal, "oauth_client.update", clients.RESOURCE)
    client = await _find(uow, "oauth_client.update", oauth_client_id)
    client.name, client.first_party, client.scopes = body.name, body.first_party, body.scopes
    client.redirect_uris = body.redirect_uris
    client.post_logout_redirect_uris = body.post_logout_redirect_uris
    await uow.session.flush()
    uow.audit.record(
        "oauth_client.update", clients.RESOURCE, client.id, detail=" ".join(body.scopes)
    )
    return clients.view(client)


@router.post(
    "/oauth-clients/{oauth_client_id}/revoke",
    response_model=schemas.OAuthClient,
    summary="Revoke an OAuth client: no more sign-ins, and the ones it made end within seconds",
    responses=problem_responses(401, 403, 404),
)
async def revoke_oauth_client(
    oauth_client_id: uuid.UUID, request: Request, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> schemas.OAuthClient:
    """Administrators only. The client can start no more sign-ins, and every sign-in made
    through it ends: its refresh tokens at once, its access tokens within seconds. Revoking is
    final; register the application again to restore it. 404 for an unknown client."""
    require_admin(uow, principal, "oauth_client.revoke", clients.RESOURCE)
    client = await _find(uow, "oauth_client.revoke", oauth_client_id)
    client.is_active = False
    families = await clients.client_families(uow, client)
    await clients.end_sign_ins(uow, request.app.state.settings, families, "oauth_client.revoke")
    uow.audit.record("oauth_client.revoke", clients.RESOURCE, client.id)
    return clients.view(client)
