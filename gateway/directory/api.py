"""The directory's HTTP API: the signed-in user, organisations and users."""

import re
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import or_, select

from gateway import schemas
from gateway.accounts.deps import passwords
from gateway.accounts.schemas import Account
from gateway.directory.access import can_see_user, require_admin
from gateway.directory.patients import with_registration
from gateway.directory.service import (
    create_user,
    deactivate,
    find_organization,
    flush_unique,
    user_view,
)
from gateway.directory.serving import acting, organization_view, organization_views
from gateway.directory.users import account_view
from gateway.models import Organization, User
from services.common.audit import Outcome
from services.common.auth import CurrentPrincipal, Role
from services.common.errors import Forbidden, NotFound, problem_responses
from services.common.idempotency import idempotent
from services.common.uow import UnitOfWorkDep

router = APIRouter(prefix="/api/directory", tags=["directory"])
MAX_PAGE = 500


@router.get(
    "/me",
    response_model=Account,
    summary="The signed-in user, with their contacts (change them with PATCH)",
    responses=problem_responses(401, 404),
)
async def me(uow: UnitOfWorkDep, principal: CurrentPrincipal) -> Account:
    """The person the token was issued to: role, organisation, specialty, contacts, language
    and whether they have a password. Any signed-in person; an API client's token is a 404, as
    it has no user record."""
    user = await uow.session.get(User, principal.subject)
    if user is None:
        raise NotFound("API clients have no user record.")
    uow.audit.record("user.read", "user", user.id)
    return await account_view(uow, user)


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
    """Administrators only (403 otherwise). `working_hours` default to Monday to Saturday,
    08:00-20:00 in the organisation's `timezone`; a name already taken is a 409. Send
    `Idempotency-Key` to retry safely."""
    require_admin(uow, principal, "organization.create", "organization")

    async def create() -> schemas.Organization:
        organization = Organization(**body.model_dump(mode="json"))
        uow.session.add(organization)
        await flush_unique(uow, f"An organisation named {body.name!r}")
        uow.audit.record("organization.create", "organization", organization.id)
        return await organization_view(uow.session, organization)

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
    """Any signed-in caller: the organisations by name (at most 500), optionally of one
    `region` (the subject code, `42` for Kuzbass) or one `kind`. Who may act for which is
    `GET /api/directory/me/organizations`."""
    query = select(Organization).order_by(Organization.name).limit(MAX_PAGE)
    if region:
        query = query.where(Organization.region == region)
    if kind:
        query = query.where(Organization.kind == kind.value)
    rows = (await uow.session.scalars(query)).all()
    return await organization_views(uow.session, rows)


@router.get(
    "/organizations/{organization_id}",
    response_model=schemas.Organization,
    summary="One organisation",
    responses=problem_responses(401, 404),
)
async def get_organization(
    organization_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> schemas.Organization:
    """Any signed-in caller: name, kind, region, time zone, opening hours and the
    organisations it serves. 404 for an unknown id."""
    return await organization_view(uow.session, await find_organization(uow, organization_id))


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
    """Administrators only. Every field is replaced, `working_hours` too (left out, they
    return to the default); `serves` is not touched (`PUT .../served`). 404 for an unknown
    organisation, 409 for a name another one has."""
    require_admin(uow, principal, "organization.update", "organization")
    organization = await find_organization(uow, organization_id)
    for field, value in body.model_dump(mode="json").items():
        setattr(organization, field, value)
    await flush_unique(uow, f"An organisation named {body.name!r}")
    uow.audit.record("organization.update", "organization", organization.id)
    return await organization_view(uow.session, organization)


@router.post(
    "/users",
    status_code=201,
    response_model=schemas.User,
    summary="Create a user",
    description="The password meets the rules of `POST /api/auth/password` (422 otherwise).",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def create_user_endpoint(
    request: Request, body: schemas.UserCreate, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> Any:
    require_admin(uow, principal, "user.create", "user")
    return await idempotent(
        request,
        uow.session,
        principal,
        body,
        lambda: create_user(uow, passwords(request), body),
    )


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
    q: Annotated[
        str | None, Query(max_length=100, description="Part of the name or username.")
    ] = None,
) -> list[schemas.User]:
    """Administrators see everyone; coordinators see the users of their region's organisations;
    specialists the specialists of their region, whom they invite to a consilium by name (each
    of whom `GET /users/{id}` shows them already)."""
    if principal.role not in {Role.ADMIN, Role.COORDINATOR, Role.SPECIALIST}:
        uow.audit.record("user.list", "user", None, Outcome.DENIED)
        raise Forbidden("Only administrators, coordinators and specialists list users.")
    query = (
        select(User, Organization.region)
        .outerjoin(Organization, User.organization_id == Organization.id)
        .order_by(User.username)
        .limit(MAX_PAGE)
    )
    if principal.role in {Role.COORDINATOR, Role.SPECIALIST}:
        query = query.where(Organization.region == principal.region)
    if principal.role == Role.SPECIALIST:
        query = query.where(User.role == Role.SPECIALIST.value)
    if role:
        query = query.where(User.role == role.value)
    if organization_id:
        query = query.where(User.organization_id == organization_id)
    if specialty:
        query = query.where(User.specialty == specialty)
    if q and q.strip():
        # `%` and `_` typed are matched as themselves, not as wildcards.
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", q.strip()) + "%"
        query = query.where(
            or_(
                User.full_name.ilike(pattern, escape="\\"),
                User.username.ilike(pattern, escape="\\"),
            )
        )
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
    "and the staff of their region; registrars the staff of their region; coordinators, "
    "registrars and doctors also the patients of the organisations theirs serves; an API "
    "client its organisation's patients; everyone themselves. Any other user is a 404, as is an "
    "unknown id. The services check the people a request names (a visit's patient, a room's "
    "host) through this route, with the caller's token.",
    responses=problem_responses(401, 404),
)
async def get_user(
    user_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> schemas.User:
    user = await uow.session.get(User, user_id)
    view = await user_view(uow, user) if user else None
    caller = await acting(uow.session, principal)
    if user is None or view is None or not can_see_user(caller, user, view.region):
        uow.audit.record("user.read", "user", user_id, Outcome.DENIED)
        raise NotFound(f"No user {user_id}.")
    uow.audit.record("user.read", "user", user_id)
    return await with_registration(uow.session, caller, user, view)


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
    user = await deactivate(uow, request, principal, User, user_id, "user.deactivate", "user")
    return await user_view(uow, user)
