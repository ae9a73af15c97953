"""Reading and recording people's last look at cases (`CaseView`), in short transactions of
their own, never around a call to the gateway."""

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from services.common.db import Database
from web.cases.models import CaseView


class SeenStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def views(
        self, user_id: uuid.UUID, case_ids: Collection[uuid.UUID]
    ) -> dict[uuid.UUID, CaseView]:
        if not case_ids:
            return {}
        query = select(CaseView).where(
            CaseView.user_id == user_id, CaseView.case_id.in_(list(case_ids))
        )
        async with self.database.sessionmaker() as session:
            return {view.case_id: view for view in await session.scalars(query)}

    async def record(
        self, user_id: uuid.UUID, case_id: uuid.UUID, status: str, at: datetime
    ) -> None:
        """One row per person and case, replaced in one statement: two tabs opening the same
        case at once both land, the later look winning."""
        values = {"user_id": user_id, "case_id": case_id, "seen_at": at, "status": status}
        dialect = postgresql if self.database.url.startswith("postgresql") else sqlite
        statement = dialect.insert(CaseView).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[CaseView.user_id, CaseView.case_id],
            set_={"seen_at": at, "status": status},
        )
        async with self.database.sessionmaker() as session:
            await session.execute(statement)
            await session.commit()
