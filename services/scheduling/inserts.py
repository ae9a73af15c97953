"""Storing a new episode or appointment with one Core `INSERT`, its object kept in the session.

The ORM's unit of work (flush) and its bulk `INSERT ... RETURNING` cost most of a booking's
inserts in Python: measured on PostgreSQL, an episode and its first visit took 1.0-1.3 ms of
CPU this way against 1.8-2.1 ms through the ORM. The object is completed first (defaults, and
null for what was not set), so once attached it has every column loaded and nothing is ever
lazily read back.
"""

from functools import cache
from typing import Any

from sqlalchemy import Table, inspect
from sqlalchemy.orm import DeclarativeBase, make_transient_to_detached
from sqlalchemy.sql.dml import Insert

from services.common.uow import UnitOfWork


def row_of(instance: DeclarativeBase) -> dict[str, Any]:
    """Every column of a new `instance`, its Python default or null where it was not set."""
    state = inspect(instance)
    for attribute in state.mapper.column_attrs:
        if attribute.key in state.dict:
            continue
        column = attribute.columns[0]
        if column.server_default is not None:  # what the database would fill in is unknown here
            raise TypeError(f"{column} needs a value: its default is the database's")
        default = column.default
        if default is None:
            setattr(instance, attribute.key, None)
        else:  # a callable one is wrapped to take the execution context, which it ignores
            setattr(
                instance, attribute.key, default.arg(None) if default.is_callable else default.arg
            )
    return {
        attribute.columns[0].key: state.dict[attribute.key]
        for attribute in state.mapper.column_attrs
    }


def table_of(model: type[DeclarativeBase]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


@cache
def _plain_insert(model: type[DeclarativeBase]) -> Insert:
    return table_of(model).insert()


async def insert(
    uow: UnitOfWork, instance: DeclarativeBase, statement: Insert | None = None
) -> bool:
    """Inserts `instance` (by `statement`, the table's plain `INSERT` by default) and, if a
    row was stored, makes it persistent in the unit of work's session; whether one was."""
    if statement is None:
        statement = _plain_insert(type(instance))
    result = await uow.session.execute(statement, row_of(instance))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    make_transient_to_detached(instance)
    uow.session.add(instance)
    return True
