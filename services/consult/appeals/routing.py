"""The territory map: which organisation answers the callers of each territory of a region.

Kept in the consult database, edited through the API by administrators and the region's
coordinators, and optionally merged from a JSON file at start-up (`appeal_territories_file`).
"""

import uuid
from datetime import datetime
from pathlib import Path

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from services.common.audit import AuditTables
from services.common.auth import Principal, Role
from services.common.db import Database, utcnow
from services.common.errors import Conflict, Forbidden, NotFound, ProblemError, Unprocessable
from services.common.uow import UnitOfWork, standalone_unit_of_work
from services.consult.appeals.answers import answer_for
from services.consult.appeals.enums import (
    AnswerLanguage,
    AppealCategory,
    AppealChannel,
    RedirectTopic,
)
from services.consult.appeals.models import Territory
from services.consult.appeals.schemas import AppealPreview, TerritoryFileEntry, TerritoryIn
from services.consult.appeals.settings import AppealsSettings
from services.consult.appeals.working_hours import add_working_time, clock_start
from services.consult.ports import OrganizationLookup

RESOURCE = "appeal_territory"
MAX_TERRITORIES = 2000  # a region has tens of districts and a few hundred municipalities


async def responsible_organization(uow: UnitOfWork, region: str, code: str) -> uuid.UUID | None:
    query = select(Territory.organization_id).where(
        Territory.region == region, Territory.code == code
    )
    organization_id: uuid.UUID | None = await uow.session.scalar(query)
    return organization_id


async def deadline(
    organizations: OrganizationLookup,
    organization_id: uuid.UUID,
    received_at: datetime,
    channel: AppealChannel,
    category: AppealCategory,
    settings: AppealsSettings,
) -> tuple[datetime, datetime]:
    """When the clock starts (the next opening if it came after hours) and when it is due."""
    organization = await organizations(organization_id)
    starts = clock_start(organization, received_at)
    working_time = settings.appeal_deadlines.working_time(channel, category)
    return starts, add_working_time(organization, starts, working_time)


async def preview(
    uow: UnitOfWork,
    region: str,
    code: str | None,
    channel: AppealChannel,
    category: AppealCategory,
    topic: RedirectTopic | None,
    organizations: OrganizationLookup,
    settings: AppealsSettings,
    now: datetime,
    language: AnswerLanguage = AnswerLanguage.EN,
) -> AppealPreview:
    """What `create_appeal` would do with such an appeal now, by the same map and rules, and
    storing nothing: the organisation, the deadline, or the answer for an excluded topic."""
    territory = None
    if code is not None:
        query = select(Territory).where(Territory.region == region, Territory.code == code)
        territory = await uow.session.scalar(query)
    organization_id = territory.organization_id if territory else None
    starts = due = None
    if organization_id is not None and topic is None:
        starts, due = await deadline(
            organizations, organization_id, now, channel, category, settings
        )
    return AppealPreview(
        region=region,
        territory=code,
        territory_name=territory.name if territory else None,
        organization_id=organization_id,
        clock_starts_at=starts,
        due_at=due,
        answer=await answer_for(uow, organization_id, topic, language, settings) if topic else None,
    )


async def organization_of_region(
    organizations: OrganizationLookup, organization_id: uuid.UUID, region: str
) -> None:
    """Raises a 422 unless the organisation exists and belongs to `region`."""
    try:
        organization = await organizations(organization_id)
    except NotFound as error:
        raise Unprocessable(f"No organisation {organization_id}.") from error
    if organization.region != region:
        raise Unprocessable(
            f"Organisation {organization_id} is in region {organization.region}, not {region}."
        )


def _check_editor(uow: UnitOfWork, principal: Principal, region: str, action: str) -> None:
    if principal.role is Role.ADMIN or (
        principal.role is Role.COORDINATOR and principal.region == region
    ):
        return
    denied = Forbidden("Administrators and the region's coordinators edit its territory map.")
    uow.audit.refuse(action, RESOURCE, None, denied)


async def list_territories(uow: UnitOfWork, region: str) -> list[Territory]:
    """The map holds no patient data: anyone signed in reads it (a patient picks their district)."""
    query = (
        select(Territory)
        .where(Territory.region == region)
        .order_by(Territory.code)
        .limit(MAX_TERRITORIES)
    )
    return list((await uow.session.scalars(query)).all())


async def put_territory(
    uow: UnitOfWork,
    principal: Principal,
    region: str,
    code: str,
    data: TerritoryIn,
    organizations: OrganizationLookup,
) -> Territory:
    action = "territory.put"
    _check_editor(uow, principal, region, action)
    try:
        await organization_of_region(organizations, data.organization_id, region)
    except ProblemError as error:
        uow.audit.refuse(action, RESOURCE, None, error)
    query = select(Territory).where(Territory.region == region, Territory.code == code)
    territory = (await uow.session.execute(query.with_for_update())).scalar_one_or_none()
    if territory is None:
        territory = Territory(id=uuid.uuid4(), region=region, code=code)
        uow.session.add(territory)
    territory.name = data.name
    territory.organization_id = data.organization_id
    territory.updated_at = utcnow()
    try:
        async with uow.session.begin_nested():
            await uow.session.flush()
    except IntegrityError:
        # Another request added the same territory between our read and our insert.
        clash = Conflict(f"Territory {code} of region {region} was just added; try again.")
        uow.audit.refuse(action, RESOURCE, None, clash)
    uow.audit.record(
        action, RESOURCE, territory.id, detail=f"{region}/{code} -> {data.organization_id}"
    )
    return territory


async def delete_territory(uow: UnitOfWork, principal: Principal, region: str, code: str) -> None:
    action = "territory.delete"
    _check_editor(uow, principal, region, action)
    result = await uow.session.execute(
        delete(Territory)
        .where(Territory.region == region, Territory.code == code)
        .returning(Territory.id)
    )
    territory_id = result.scalar_one_or_none()
    if territory_id is None:
        uow.audit.refuse(
            action, RESOURCE, None, NotFound(f"No territory {code} in region {region}.")
        )
    uow.audit.record(action, RESOURCE, territory_id, detail=f"{region}/{code}")


def read_territory_file(path: Path) -> list[TerritoryFileEntry]:
    """The file's entries, or a `ValueError` naming what is wrong with it."""
    try:
        return TypeAdapter(list[TerritoryFileEntry]).validate_json(path.read_bytes())
    except (OSError, ValidationError) as error:
        raise ValueError(f"territory file {path}: {error}") from error


async def merge_territory_file(database: Database, audit_tables: AuditTables, path: Path) -> int:
    """Adds or replaces the file's entries (`merge_territories`)."""
    return await merge_territories(database, audit_tables, read_territory_file(path), path.name)


async def merge_territories(
    database: Database, audit_tables: AuditTables, entries: list[TerritoryFileEntry], source: str
) -> int:
    """Adds or replaces the entries; entries made through the API stay unless one names the
    same territory. The directory is not asked: the entries are the administrator's (a file,
    or the demo's seed)."""
    async with standalone_unit_of_work(database, audit_tables) as uow:
        existing = {
            (territory.region, territory.code): territory
            for territory in (await uow.session.scalars(select(Territory))).all()
        }
        for entry in entries:
            territory = existing.get((entry.region, entry.code))
            if territory is None:
                territory = Territory(id=uuid.uuid4(), region=entry.region, code=entry.code)
                uow.session.add(territory)
                existing[(entry.region, entry.code)] = territory
            territory.name = entry.name
            territory.organization_id = entry.organization_id
        await uow.session.flush()
        uow.audit.record(
            "territory.load", RESOURCE, None, detail=f"{len(entries)} entries from {source}"
        )
    return len(entries)
