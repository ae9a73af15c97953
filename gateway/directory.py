"""Directory of organisations, users and API clients: who may see and manage whom."""

import uuid
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from gateway import revocations, schemas
from gateway.auth import SecretHasher, new_client_credentials, secret_hasher
from gateway.models import ApiClient, Organization, User
from services.common.audit import Outcome
from services.common.auth import CurrentPrincipal, Principal, Role
from services.common.errors import Conflict, Forbidden, NotFound, problem_responses
from services.common.idempotency import ShownOnce, idempotent
from services.common.uow import UnitOfWork, UnitOfWorkDep

router = APIRouter(prefix="/api/directory", tags=["directory"])
Deactivatable = TypeVar("Deactivatable", User, ApiClient)
MAX_PAGE = 500
SECRET = ShownOnce(
    frozenset({"client_secret"}),
    "Revoke the client (POST /api/directory/api-clients/{id}/revoke) and register a new one.",
)


def _require_admin(uow: UnitOfWork, principal: Principal, action: str, resource: str) -> None:
    if principal.role != Role.ADMIN:
        uow.audit.record(action, resource, None, Outcome.DENIED)
        raise Forbidden("Only administrators manage the directory.")


async def _organization(uow: UnitOfWork, organization_id: uuid.UUID) -> Organization:
    organization = await uow.session.get(Organization, organization_id)
    if organization is None:
        raise NotFound(f"No organisation {organization_id}.")
    return organization


async def _user_view(uow: UnitOfWork, user: User) -> schemas.User:
    region = None
    if user.organization_id:
        region = (await _organization(uow, user.organization_id)).region
    return schemas.User.model_validate(user).model_copy(update={"region": region})


async def _keep_an_administrator(uow: UnitOfWork, user: User, action: str) -> None:
    """Refuses (409) to leave the directory without an active administrator: nobody could
    then manage it. The active administrators' rows are locked, so two of them switching
    each other off at once cannot both succeed."""
    if user.role != Role.ADMIN or not user.is_active:
        return
    admins = select(User.id).where(User.role == Role.ADMIN.value, User.is_active.is_(True))
    if set((await uow.session.scalars(admins.with_for_update())).all()) <= {user.id}:
        uow.audit.refuse(
            action,
            "user",
            user.id,
            Conflict(f"{user.username} is the only active administrator; appoint another first."),
        )


async def _deactivate(
    uow: UnitOfWork,
    request: Request,
    principal: Principal,
    model: type[Deactivatable],
    record_id: uuid.UUID,
    action: str,
    resource: str,
) -> Deactivatable:
    """Switches an account off for good: its tokens stop being issued or renewed, and the
    ones it holds are refused everywhere within seconds (gateway/revocations.py)."""
    _require_admin(uow, principal, action, resource)
    record = await uow.session.get(model, record_id)
    if record is None:
        raise NotFound(f"No {resource.replace('_', ' ')} {record_id}.")
    if isinstance(record, User):
        await _keep_an_administrator(uow, record, action)
    record.is_active = False
    await uow.session.flush()
    await revocations.revoke(uow.session, request.app.state.settings, record.id, action)
    uow.audit.record(action, resource, record.id)
    return record


async def _flush_unique(uow: UnitOfWork, what: str) -> None:
    try:
        async with uow.session.begin_nested():
            await uow.session.flush()
    except IntegrityError as exc:
        raise Conflict(f"{what} already exists.") from exc


@router.get(
    "/me",
    response_model=schemas.User,
    summary="The signed-in user",
    responses=problem_responses(401, 404),
)
async def me(uow: UnitOfWorkDep, principal: CurrentPrincipal) -> schemas.User:
    user = await uow.session.get(User, principal.subject)
    if user is None:
        raise NotFound("API clients have no user record.")
    uow.audit.record("user.read", "user", user.id)
    return await _user_view(uow, user)


@router.post(
    "/organizations",
    status_code=201,
    response_model=schemas.Organization,
    summary="Register an organisation",
    responses=problem_responses(401, 403, 409),
)
async def create_organization(
    request: Request,
    body: schemas.OrganizationCreate,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
) -> Any:
    _require_admin(uow, principal, "organization.create", "organization")

    async def create() -> schemas.Organization:
        organization = Organization(**body.model_dump(mode="json"))
        uow.session.add(organization)
        await _flush_unique(uow, f"An organisation named {body.name!r}")
        uow.audit.record("organization.create", "organization", organization.id)
        return schemas.Organization.model_validate(organization)

    return await idempotent(request, uow.session, principal, body, create)


@router.get(
    "/organizations",
    response_model=list[schemas.Organization],
    summary="List organisations",
    responses=problem_responses(401),
)
async def list_organizations(
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    region: Annotated[str | None, Query(max_length=8)] = None,
    kind: schemas.OrganizationKind | None = None,
) -> list[schemas.Organization]:
    query = select(Organization).order_by(Organization.name).limit(MAX_PAGE)
    if region:
        query = query.where(Organization.region == region)
    if kind:
        query = query.where(Organization.kind == kind.value)
    rows = (await uow.session.scalars(query)).all()
    return [schemas.Organization.model_validate(row) for row in rows]


@router.get(
    "/organizations/{organization_id}",
    response_model=schemas.Organization,
    summary="One organisation",
    responses=problem_responses(401, 404),
)
async def get_organization(
    organization_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> schemas.Organization:
    return schemas.Organization.model_validate(await _organization(uow, organization_id))


@router.put(
    "/organizations/{organization_id}",
    response_model=schemas.Organization,
    summary="Replace an organisation's details",
    responses=problem_responses(401, 403, 404, 409),
)
async def update_organization(
    organization_id: uuid.UUID,
    body: schemas.OrganizationCreate,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
) -> schemas.Organization:
    _require_admin(uow, principal, "organization.update", "organization")
    organization = await _organization(uow, organization_id)
    for field, value in body.model_dump(mode="json").items():
        setattr(organization, field, value)
    await _flush_unique(uow, f"An organisation named {body.name!r}")
    uow.audit.record("organization.update", "organization", organization.id)
    return schemas.Organization.model_validate(organization)


async def create_user(
    uow: UnitOfWork, hasher: SecretHasher, body: schemas.UserCreate
) -> schemas.User:
    """Shared by the API and `telemed admin create-user`."""
    if body.organization_id:
        await _organization(uow, body.organization_id)
    user = User(
        username=body.username,
        password_hash=await hasher.hash(body.password),
        full_name=body.full_name,
        role=body.role.value,
        organization_id=body.organization_id,
        specialty=body.specialty,
    )
    uow.session.add(user)
    await _flush_unique(uow, f"A user named {body.username!r}")
    uow.audit.record("user.create", "user", user.id)
    return await _user_view(uow, user)


@router.post(
    "/users",
    status_code=201,
    response_model=schemas.User,
    summary="Create a user",
    responses=problem_responses(401, 403, 404, 409),
)
async def create_user_endpoint(
    request: Request, body: schemas.UserCreate, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> Any:
    _require_admin(uow, principal, "user.create", "user")
    return await idempotent(
        request,
        uow.session,
        principal,
        body,
        lambda: create_user(uow, secret_hasher(request), body),
    )


# Those doctors may name as a room's host or a colleague: the staff of their region.
REGION_STAFF = frozenset({Role.COORDINATOR.value, Role.DISTRICT_MEDIC.value, Role.SPECIALIST.value})
DOCTORS = frozenset({Role.DISTRICT_MEDIC, Role.SPECIALIST})


def _can_see_user(principal: Principal, user: User, user_region: str | None) -> bool:
    """Administrators see everyone and everyone themselves; coordinators see the users of
    their region; doctors see their own organisation (its patients among them) and the staff
    of their region. Services check the people a request names through this (`get_user`)."""
    if principal.role == Role.ADMIN or principal.subject == user.id:
        return True
    if principal.region is None or user_region != principal.region:
        return False
    if principal.role == Role.COORDINATOR:
        return True
    if principal.role in DOCTORS:
        own = principal.organization_id is not None
        return (own and user.organization_id == principal.organization_id) or (
            user.role in REGION_STAFF
        )
    return False


@router.get(
    "/users",
    response_model=list[schemas.User],
    summary="List users",
    responses=problem_responses(401, 403),
)
async def list_users(
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    role: Role | None = None,
    organization_id: uuid.UUID | None = None,
    specialty: Annotated[str | None, Query(max_length=64)] = None,
) -> list[schemas.User]:
    """Administrators see everyone; coordinators see the users of their region's organisations."""
    if principal.role not in {Role.ADMIN, Role.COORDINATOR}:
        uow.audit.record("user.list", "user", None, Outcome.DENIED)
        raise Forbidden("Only administrators and coordinators list users.")
    query = (
        select(User, Organization.region)
        .outerjoin(Organization, User.organization_id == Organization.id)
        .order_by(User.username)
        .limit(MAX_PAGE)
    )
    if principal.role == Role.COORDINATOR:
        query = query.where(Organization.region == principal.region)
    if role:
        query = query.where(User.role == role.value)
    if organization_id:
        query = query.where(User.organization_id == organization_id)
    if specialty:
        query = query.where(User.specialty == specialty)
    rows = (await uow.session.execute(query)).all()
    uow.audit.record("user.list", "user", None, detail=f"returned={len(rows)}")
    return [
        schemas.User.model_validate(user).model_copy(update={"region": region})
        for user, region in rows
    ]


@router.get(
    "/users/{user_id}",
    response_model=schemas.User,
    summary="One user",
    description="Administrators see everyone; coordinators the users of their region; "
    "district medics and specialists their own organisation's users (its patients among them) "
    "and the staff of their region; everyone themselves. Any other user is a 404, as is an "
    "unknown id. The services check the people a request names (a visit's patient, a room's "
    "host) through this route, with the caller's token.",
    responses=problem_responses(401, 404),
)
async def get_user(
    user_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> schemas.User:
    user = await uow.session.get(User, user_id)
    view = await _user_view(uow, user) if user else None
    if user is None or view is None or not _can_see_user(principal, user, view.region):
        uow.audit.record("user.read", "user", user_id, Outcome.DENIED)
        raise NotFound(f"No user {user_id}.")
    uow.audit.record("user.read", "user", user_id)
    return view


@router.post(
    "/users/{user_id}/deactivate",
    response_model=schemas.User,
    summary="Deactivate a user (their tokens stop working everywhere within seconds)",
    responses=problem_responses(401, 403, 404, 409),
)
async def deactivate_user(
    user_id: uuid.UUID, request: Request, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> schemas.User:
    """The only active administrator cannot be deactivated (409), by themselves or anyone."""
    user = await _deactivate(uow, request, principal, User, user_id, "user.deactivate", "user")
    return await _user_view(uow, user)


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
    _require_admin(uow, principal, "api_client.create", "api_client")

    async def create() -> schemas.ApiClientCreated:
        await _organization(uow, body.organization_id)
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
    _require_admin(uow, principal, "api_client.list", "api_client")
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
    _require_admin(uow, principal, "api_client.update", "api_client")
    client = await uow.session.get(ApiClient, api_client_id)
    if client is None:
        uow.audit.refuse(
            "api_client.update",
            "api_client",
            api_client_id,
            NotFound(f"No API client {api_client_id}."),
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
    client = await _deactivate(
        uow, request, principal, ApiClient, api_client_id, "api_client.revoke", "api_client"
    )
    return schemas.ApiClient.model_validate(client)
