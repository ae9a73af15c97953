"""API clients in the directory: registered by administrators, their secret shown once."""

import uuid
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select

from gateway import revocations, schemas
from gateway.auth import new_client_credentials, secret_hasher
from gateway.directory.access import require_admin
from gateway.directory.service import deactivate, find_or_refuse, find_organization
from gateway.models import ApiClient
from services.common.auth import CurrentPrincipal
from services.common.errors import problem_responses
from services.common.idempotency import ShownOnce, idempotent
from services.common.uow import UnitOfWorkDep

router = APIRouter(prefix="/api/directory", tags=["directory"])
SECRET = ShownOnce(
    frozenset({"client_secret"}),
    "Revoke the client (POST /api/directory/api-clients/{id}/revoke) and register a new one.",
)


@router.post(
    "/api-clients",
    status_code=201,
    response_model=schemas.ApiClientCreated,
    summary="Register an API client (its secret is shown once)",
    description="Send `Idempotency-Key` to retry safely; the secret is not kept, so a retry "
    "after the first answer is a 410 naming the client in `created`.",
    responses=problem_responses(401, 403, 404, 410),
)
async def create_api_client(
    request: Request, body: schemas.ApiClientCreate, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> Any:
    require_admin(uow, principal, "api_client.create", "api_client")

    async def create() -> schemas.ApiClientCreated:
        await find_organization(uow, body.organization_id)
        client_id, secret = new_client_credentials()
        client = ApiClient(
            client_id=client_id,
            secret_hash=await secret_hasher(request).hash(secret),
            name=body.name,
            organization_id=body.organization_id,
            scopes=body.scopes,
            is_service=body.is_service,
        )
        uow.session.add(client)
        await uow.session.flush()
        uow.audit.record("api_client.create", "api_client", client.id)
        view = schemas.ApiClient.model_validate(client)
        return schemas.ApiClientCreated(**view.model_dump(), client_secret=secret)

    return await idempotent(request, uow.session, principal, body, create, shown_once=SECRET)


@router.get(
    "/api-clients",
    response_model=list[schemas.ApiClient],
    summary="List API clients",
    responses=problem_responses(401, 403),
)
async def list_api_clients(
    uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> list[schemas.ApiClient]:
    """Every API client, revoked ones too (`is_active`), by name, with its organisation and
    scopes; secrets are never shown. Administrators only (403 for anyone else)."""
    require_admin(uow, principal, "api_client.list", "api_client")
    rows = (await uow.session.scalars(select(ApiClient).order_by(ApiClient.name))).all()
    return [schemas.ApiClient.model_validate(row) for row in rows]


@router.put(
    "/api-clients/{api_client_id}",
    response_model=schemas.ApiClient,
    summary="Change an API client's name, scopes and service mark",
    responses=problem_responses(401, 403, 404),
)
async def update_api_client(
    api_client_id: uuid.UUID,
    body: schemas.ApiClientUpdate,
    request: Request,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
) -> schemas.ApiClient:
    """Scopes come from the allow-list (422 otherwise); taking a scope away also refuses the
    client's tokens issued so far, within seconds, so it must fetch a new one."""
    require_admin(uow, principal, "api_client.update", "api_client")
    client = await find_or_refuse(
        uow, ApiClient, api_client_id, "api_client.update", "api_client", "API client"
    )
    narrowed = set(client.scopes) - set(body.scopes)
    client.name, client.is_service, client.scopes = body.name, body.is_service, body.scopes
    await uow.session.flush()
    if narrowed:
        settings = request.app.state.settings
        await revocations.revoke(uow.session, settings, client.id, "api_client.update")
    uow.audit.record("api_client.update", "api_client", client.id, detail=" ".join(body.scopes))
    return schemas.ApiClient.model_validate(client)


@router.post(
    "/api-clients/{api_client_id}/revoke",
    response_model=schemas.ApiClient,
    summary="Revoke an API client (its tokens stop working everywhere within seconds)",
    responses=problem_responses(401, 403, 404),
)
async def revoke_api_client(
    api_client_id: uuid.UUID, request: Request, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> schemas.ApiClient:
    """Administrators only. The client can obtain no more tokens and the ones it holds are
    refused by every service within seconds; its webhook subscriptions stop with it. Revoking
    is final: register a new client to restore access. 404 for an unknown client."""
    client = await deactivate(
        uow, request, principal, ApiClient, api_client_id, "api_client.revoke", "api_client"
    )
    return schemas.ApiClient.model_validate(client)
