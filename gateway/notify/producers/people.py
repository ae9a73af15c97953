"""The directory as the producers read it: who can be told, and the names and zones their
messages show. Only the gateway's own tables; nothing here calls a service."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.models import Organization, User
from services.common.auth import Role


def utc_text(moment: datetime) -> str:
    """ISO 8601 in UTC, as every time in a message's parameters is."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def recipient(session: AsyncSession, user_id: uuid.UUID | None) -> User | None:
    """The person, if they are in the directory and active: a deactivated account is told
    nothing (and an API client's id names no person)."""
    if user_id is None:
        return None
    user = await session.get(User, user_id)
    return user if user is not None and user.is_active else None


async def organization(
    session: AsyncSession, organization_id: uuid.UUID | None
) -> Organization | None:
    return await session.get(Organization, organization_id) if organization_id else None


async def full_name(session: AsyncSession, user_id: uuid.UUID | None) -> str | None:
    if user_id is None:
        return None
    name: str | None = await session.scalar(select(User.full_name).where(User.id == user_id))
    return name


async def zone_of(session: AsyncSession, user: User) -> str:
    """The zone of the person's organisation, in which their messages show times."""
    found = await organization(session, user.organization_id)
    return found.timezone if found else "UTC"


async def specialists(
    session: AsyncSession, organization_id: uuid.UUID | None, specialty: str
) -> list[User]:
    """The active specialists of `specialty` in the organisation: those who may take a case
    addressed to it (consult's `is_target_specialist`)."""
    if organization_id is None:
        return []
    query = (
        select(User)
        .where(
            User.organization_id == organization_id,
            User.role == Role.SPECIALIST.value,
            User.specialty == specialty,
            User.is_active.is_(True),
        )
        .order_by(User.id)
    )
    return list(await session.scalars(query))


async def anyone_reachable(session: AsyncSession) -> bool:
    """Whether any active person has an address a message could go to."""
    reachable = exists().where(
        User.is_active.is_(True), or_(User.email.is_not(None), User.phone.is_not(None))
    )
    return bool(await session.scalar(select(reachable)))
