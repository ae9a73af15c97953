"""A database connection that dies under a service is a 503 problem, then the pool recovers."""

import asyncpg
import pytest

from tests.conftest import PG_SERVER, TEST_DB, Stack

pytestmark = pytest.mark.skipif(TEST_DB != "postgresql", reason="kills PostgreSQL backends")


async def test_lost_connections_answer_503_then_recover(
    stack: Stack, clean_databases: dict[str, str]
) -> None:
    medic = await stack.actor("district_medic", await stack.organization())
    assert (await stack.client.get("/api/consult/cases", headers=medic.headers)).status_code == 200
    database = clean_databases["consult"].rsplit("/", 1)[1]
    admin = await asyncpg.connect(f"postgresql://{PG_SERVER}/postgres")
    try:
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1",
            database,
        )
    finally:
        await admin.close()
    assert killed >= 1
    lost = await stack.client.get("/api/consult/cases", headers=medic.headers)
    assert lost.status_code == 503
    assert lost.headers["content-type"] == "application/problem+json"
    assert lost.headers["retry-after"] == "1"
    recovered = await stack.client.get("/api/consult/cases", headers=medic.headers)
    assert recovered.status_code == 200
