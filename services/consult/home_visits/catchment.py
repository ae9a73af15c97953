"""The catchment: which polyclinic serves an address. Per region, a line maps a territory (the
codes of the appeals' territory map), optionally narrowed to a settlement and one of its
streets, to a polyclinic; the most specific line matching an address wins. Edited through the
API by administrators and the region's coordinators; it holds no patient data."""

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from gateway.client import Organization, OrganizationKind
from services.common.audit import AuditTables
from services.common.auth import Principal, Role
from services.common.db import Database
from services.common.errors import Conflict, Forbidden, NotFound, ProblemError, Unprocessable
from services.common.uow import UnitOfWork, standalone_unit_of_work
from services.consult.home_visits.models import Catchment
from services.consult.home_visits.schemas import CatchmentIn
from services.consult.ports import OrganizationLookup

RESOURCE = "home_visit_catchment"
MAX_LINES = 5000  # a region's territories, and a few thousand streets of its cities
# Organisations whose doctors go to patients' homes.
VISITING = frozenset(
    {OrganizationKind.POLYCLINIC, OrganizationKind.DISTRICT_HOSPITAL,
     OrganizationKind.REGIONAL_CENTRE}
)  # fmt: skip


def key(text: str) -> str:
    """How an address's settlement or street is matched: operators type "Таштагол" and
    "таштагол", "Ёлкино" and "Елкино", with stray spaces."""
    return " ".join(text.casefold().replace("\u0451", "\u0435").split())  # yo as ye


async def serving(
    uow: UnitOfWork, region: str, territory: str, settlement: str, street: str
) -> Catchment | None:
    """The most specific line serving the address: its street, else its settlement, else its
    territory."""
    settlement_key, street_key = key(settlement), key(street)
    query = select(Catchment).where(
        Catchment.region == region,
        Catchment.territory_code == territory,
        Catchment.settlement_key.in_({"", settlement_key}),
        Catchment.street_key.in_({"", street_key}),
    )
    lines = [
        line
        for line in await uow.session.scalars(query)
        # A street line serves that street of its settlement only.
        if not (line.street_key and not line.settlement_key)
    ]
    if not lines:
        return None
    return max(lines, key=lambda line: (bool(line.settlement_key), bool(line.street_key)))


def _check_editor(uow: UnitOfWork, principal: Principal, region: str, action: str) -> None:
    if principal.role is Role.ADMIN or (
        principal.role is Role.COORDINATOR and principal.region == region
    ):
        return
    denied = Forbidden("Administrators and the region's coordinators edit its catchment.")
    uow.audit.refuse(action, RESOURCE, None, denied)


async def _polyclinic(
    organizations: OrganizationLookup, organization_id: uuid.UUID, region: str
) -> Organization:
    try:
        organization = await organizations(organization_id)
    except NotFound as error:
        raise Unprocessable(f"No organisation {organization_id}.") from error
    if organization.region != region:
        raise Unprocessable(
            f"Organisation {organization_id} is in region {organization.region}, not {region}."
        )
    if organization.kind not in VISITING:
        raise Unprocessable(f"A {organization.kind.value} sends no doctors to homes.")
    return organization


async def list_lines(uow: UnitOfWork, region: str) -> list[Catchment]:
    query = (
        select(Catchment)
        .where(Catchment.region == region)
        .order_by(Catchment.territory_code, Catchment.settlement_key, Catchment.street_key)
        .limit(MAX_LINES)
    )
    return list(await uow.session.scalars(query))


async def add_line(
    uow: UnitOfWork, principal: Principal, data: CatchmentIn, organizations: OrganizationLookup
) -> Catchment:
    action = "home_visit_catchment.add"
    _check_editor(uow, principal, data.region, action)
    try:
        if data.street and not data.settlement:
            raise Unprocessable("A street narrows a settlement: name the settlement too.")
        await _polyclinic(organizations, data.organization_id, data.region)
    except ProblemError as error:
        uow.audit.refuse(action, RESOURCE, None, error)
    line = Catchment(
        id=uuid.uuid4(),
        region=data.region,
        territory_code=data.territory,
        settlement=data.settlement,
        street=data.street,
        settlement_key=key(data.settlement),
        street_key=key(data.street),
        organization_id=data.organization_id,
    )
    try:
        async with uow.session.begin_nested():
            uow.session.add(line)
            await uow.session.flush()
    except IntegrityError:
        clash = Conflict("A line for this address exists: delete it to change its polyclinic.")
        uow.audit.refuse(action, RESOURCE, None, clash)
    where = "/".join(part for part in (data.territory, data.settlement, data.street) if part)
    uow.audit.record(action, RESOURCE, line.id, detail=f"{where} -> {data.organization_id}")
    return line


async def delete_line(uow: UnitOfWork, principal: Principal, line_id: uuid.UUID) -> None:
    action = "home_visit_catchment.delete"
    line = await uow.session.get(Catchment, line_id)
    if line is None:
        uow.audit.refuse(action, RESOURCE, line_id, NotFound("No such catchment line."))
    _check_editor(uow, principal, line.region, action)
    await uow.session.delete(line)
    await uow.session.flush()
    uow.audit.record(action, RESOURCE, line_id, detail=f"{line.region}/{line.territory_code}")


async def merge_lines(
    database: Database, audit_tables: AuditTables, entries: list[tuple[str, str, uuid.UUID]]
) -> int:
    """Adds the whole-territory lines (region, territory, polyclinic) that are missing, or
    points them at the polyclinic named: the demo's seed. The directory is not asked."""
    async with standalone_unit_of_work(database, audit_tables) as uow:
        for region, territory, organization_id in entries:
            query = select(Catchment).where(
                Catchment.region == region,
                Catchment.territory_code == territory,
                Catchment.settlement_key == "",
                Catchment.street_key == "",
            )
            line = await uow.session.scalar(query)
            if line is None:
                line = Catchment(
                    id=uuid.uuid4(), region=region, territory_code=territory, settlement="",
                    street="", settlement_key="", street_key="",
                )  # fmt: skip
                uow.session.add(line)
            line.organization_id = organization_id
        await uow.session.flush()
        uow.audit.record("home_visit_catchment.load", RESOURCE, None, detail=f"{len(entries)}")
    return len(entries)
