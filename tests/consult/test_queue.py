"""The work queue's read path: every summary field, ties across pages, and SQL the indexes fit."""

import importlib.util
import re
import uuid
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.schema import CreateIndex
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from services.common.auth import Principal, Role
from services.common.db import Database, utcnow
from services.common.migrations import upgrade
from services.consult.cases import queue
from services.consult.cases.enums import OPEN_STATUSES, CaseStatus
from services.consult.cases.models import Case
from services.consult.cases.schemas import CaseSummary
from services.consult.db import Base
from tests.conftest import Actor
from tests.consult.conftest import CONSULT, World

MIGRATION = Path(__file__).parents[2] / "services/consult/migrations/versions/0001_initial.py"
OPEN_PREDICATE = "status IN ('submitted', 'accepted', 'in_progress', 'info_requested')"
OPEN = sorted(OPEN_STATUSES)
PG: Dialect = postgresql.asyncpg.dialect()  # type: ignore[no-untyped-call]
SQLITE: Dialect = sqlite.aiosqlite.dialect()


def _consult_db(world: World) -> Database:
    database: Database = world.stack.apps["consult"].state.database
    return database


async def _get(world: World, actor: Actor, path: str, **params: Any) -> Any:
    response = await world.stack.client.get(
        f"{CONSULT}{path}", params=params, headers=actor.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def _walk(world: World, actor: Actor, limit: int, **params: Any) -> list[dict[str, Any]]:
    """Every page of the caller's queue, following `next_cursor` to the end."""
    seen: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        page = await _get(
            world, actor, "/cases", limit=limit, **params, **({"cursor": cursor} if cursor else {})
        )
        assert len(page["items"]) <= limit
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("the queue never reached its last page")


async def _set_due(world: World, ids: list[str], due_at: Any) -> None:
    async with _consult_db(world).sessionmaker() as session:
        keys = [uuid.UUID(case_id) for case_id in ids]
        await session.execute(update(Case).where(Case.id.in_(keys)).values(due_at=due_at))
        await session.commit()


# --- what a queue item carries ------------------------------------------------------------


async def test_queue_items_carry_every_summary_field_as_the_case_has_it(world: World) -> None:
    draft = await world.create()
    submitted = await world.create(submit=True, urgency="emergency", mode="video")
    accepted = await world.create(submit=True)
    assert (await world.act(world.cardiologist, accepted["id"], "accept")).status_code == 200
    await _set_due(world, [submitted["id"]], utcnow() - timedelta(minutes=5))

    items = (await _get(world, world.medic, "/cases"))["items"]
    assert {item["id"] for item in items} == {draft["id"], submitted["id"], accepted["id"]}
    fields = set(CaseSummary.model_fields) | {"overdue"}
    for item in items:
        assert set(item) == fields  # nothing missing, and no clinical content
        full = await _get(world, world.medic, f"/cases/{item['id']}")
        assert item == {name: full[name] for name in fields}
    by_id = {item["id"]: item for item in items}
    assert by_id[draft["id"]]["submitted_at"] is None
    assert by_id[accepted["id"]]["assignee_id"] == str(world.cardiologist.id)
    assert by_id[submitted["id"]]["overdue"] is True
    assert by_id[submitted["id"]]["mode"] == "video"


# --- keyset pagination --------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [{}, {"overdue": "true"}, {"status": OPEN}, {"status": ["submitted", "accepted"]}],
    ids=["all", "overdue", "open-statuses", "some-open-statuses"],
)
async def test_tied_deadlines_page_each_case_exactly_once(
    world: World, params: dict[str, Any]
) -> None:
    made = [(await world.create(submit=True))["id"] for _ in range(7)]
    tie, later = utcnow() - timedelta(hours=2), utcnow() - timedelta(hours=1)
    await _set_due(world, made[:5], tie)  # five share one deadline: pages split the tie
    await _set_due(world, made[5:], later)
    for limit in (1, 2, 3, 5, 7):
        seen = await _walk(world, world.cardiologist, limit, **params)
        ids = [item["id"] for item in seen]
        assert sorted(ids) == sorted(made), f"limit {limit}"
        expected = sorted(made[:5], key=uuid.UUID) + sorted(made[5:], key=uuid.UUID)
        assert ids == expected, f"limit {limit}: not ordered by (due_at, id)"


async def test_overdue_combines_with_the_status_filter(world: World) -> None:
    waiting, taken, withdrawn = [await world.create(submit=True) for _ in range(3)]
    assert (await world.act(world.cardiologist, taken["id"], "accept")).status_code == 200
    assert (await world.act(world.medic, withdrawn["id"], "cancel")).status_code == 200
    await _set_due(
        world, [waiting["id"], taken["id"], withdrawn["id"]], utcnow() - timedelta(days=1)
    )

    async def queue_ids(**params: Any) -> list[str]:
        page = await _get(world, world.cardiologist, "/cases", **params)
        return [item["id"] for item in page["items"]]

    assert sorted(await queue_ids(overdue="true")) == sorted([waiting["id"], taken["id"]])
    assert await queue_ids(overdue="true", status="accepted") == [taken["id"]]
    assert await queue_ids(overdue="true", status="cancelled") == []  # closed: never overdue
    assert await queue_ids(status="cancelled") == [withdrawn["id"]]


# --- SQL that the partial indexes fit ------------------------------------------------------


def _migration() -> ModuleType:
    spec = importlib.util.spec_from_file_location("consult_0001_initial", MIGRATION)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _sql(statement: ClauseElement, dialect: Dialect) -> str:
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    return " ".join(str(compiled).split())


PRINCIPALS = {
    "specialist": Principal(
        subject=uuid.uuid4(),
        username="cardiologist",
        role=Role.SPECIALIST,
        organization_id=uuid.uuid4(),
        region="42",
        specialty="cardiology",
    ),
    "medic": Principal(
        subject=uuid.uuid4(),
        username="medic",
        role=Role.DISTRICT_MEDIC,
        organization_id=uuid.uuid4(),
        region="42",
    ),
    "coordinator": Principal(
        subject=uuid.uuid4(),
        username="coordinator",
        role=Role.COORDINATOR,
        organization_id=uuid.uuid4(),
        region="42",
    ),
}
OPEN_READS = {
    "open statuses": queue.QueueFilter(statuses=OPEN),
    "some open statuses": queue.QueueFilter(statuses=[CaseStatus.SUBMITTED]),
    "overdue": queue.QueueFilter(overdue=True),
    "overdue, some statuses": queue.QueueFilter(
        statuses=[CaseStatus.ACCEPTED, CaseStatus.CONCLUDED], overdue=True
    ),
}


def _open_reads(principal: Principal) -> dict[str, ClauseElement]:
    reads: dict[str, ClauseElement] = {
        name: queue.page_query(principal, filters, limit=50) for name, filters in OPEN_READS.items()
    }
    return reads | {"overdue count": queue.overdue_count_query(principal)}


def test_open_indexes_are_declared_as_the_migration_creates_them() -> None:
    # Autogenerate compares index columns, not predicates; this pins the predicate.
    assert _migration().OPEN_CASES == OPEN_PREDICATE
    cases = Base.metadata.tables["cases"]
    indexes = [index for index in cases.indexes if str(index.name).endswith("_open")]
    assert {index.name for index in indexes} == {
        "ix_cases_target_open",
        "ix_cases_requester_open",
        "ix_cases_region_open",
    }
    for index in indexes:
        for dialect in (PG, SQLITE):
            assert str(CreateIndex(index).compile(dialect=dialect)).endswith(
                f"WHERE {OPEN_PREDICATE}"
            )


@pytest.mark.parametrize("dialect", [PG, SQLITE], ids=["postgresql", "sqlite"])
def test_open_reads_state_the_index_predicate_in_literal_sql(dialect: Dialect) -> None:
    """Bound values cannot prove a partial index's predicate to a planner; literal ones can."""
    for principal in PRINCIPALS.values():
        for name, statement in _open_reads(principal).items():
            assert f"cases.{OPEN_PREDICATE}" in _sql(statement, dialect), name
    closed = queue.page_query(
        PRINCIPALS["specialist"], queue.QueueFilter(statuses=[CaseStatus.CONCLUDED]), limit=50
    )
    assert OPEN_PREDICATE not in _sql(closed, dialect)


def test_sqlite_plans_open_reads_on_indexes_without_closed_history(tmp_path: Path) -> None:
    # The migrated schema, not `create_all`: without statistics SQLite breaks the cost tie
    # between a partial and a full index on the same columns by creation order.
    path = tmp_path / "consult.sqlite3"
    upgrade(MIGRATION.parents[1], f"sqlite+aiosqlite:///{path}")
    engine = create_engine(f"sqlite:///{path}")

    def plan(connection: Connection, statement: ClauseElement) -> str:
        compiled = statement.compile(
            dialect=engine.dialect, compile_kwargs={"render_postcompile": True}
        )
        assert isinstance(compiled, SQLCompiler)
        # The plan does not depend on the bound values; the literal predicate is in the SQL.
        values = (None,) * len(compiled.positiontup or ())
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", values)
        return " | ".join(str(row[3]) for row in rows)

    queues = {"specialist": "target", "medic": "requester", "coordinator": "region"}
    try:
        with engine.connect() as connection:
            for who, principal in PRINCIPALS.items():
                index = f"ix_cases_{queues[who]}"
                # Indexes that skip closed cases: the open one, and for a specialist also the
                # (…, status, due_at) one, which SQLite probes status by status.
                allowed = {f"{index}_open"} | (
                    {"ix_cases_target_status_due"} if who == "specialist" else set()
                )
                for name, statement in _open_reads(principal).items():
                    used = re.search(
                        r"USING (?:COVERING )?INDEX (\w+) ", plan(connection, statement)
                    )
                    assert used is not None, (who, name)
                    assert used[1] in allowed, (who, name, used[0])
                everything = queue.page_query(principal, queue.QueueFilter(), limit=50)
                assert f"USING INDEX {index}_queue " in plan(connection, everything), who
    finally:
        engine.dispose()
