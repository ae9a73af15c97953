"""`GET /api/<service>/audit/verification`: each service's audit chains verified on an
administrator's request, through the gateway; an edited record is named; others are refused."""

from sqlalchemy import text

from services.common.db import Database
from tests.conftest import Stack

SERVICES = ("gateway", "consult", "files", "video", "scheduling")
Urls = dict[str, str]


async def _execute(url: str, statement: str) -> list[tuple[object, ...]]:
    database = Database(url)
    try:
        async with database.engine.begin() as connection:
            result = await connection.execute(text(statement))
            return [tuple(row) for row in result.all()] if result.returns_rows else []
    finally:
        await database.dispose()


async def test_administrators_verify_each_services_chains(stack: Stack) -> None:
    assert stack.admin is not None
    for service in SERVICES:
        response = await stack.client.get(
            f"/api/{service}/audit/verification", headers=stack.admin.headers
        )
        assert response.status_code == 200, (service, response.text)
        report = response.json()
        assert report["service"] == service
        assert report["intact"] is True
        assert report["broken_chain"] is None


async def test_an_edited_record_is_named(stack: Stack, clean_databases: Urls) -> None:
    assert stack.admin is not None
    path = "/api/gateway/audit/verification"
    first = await stack.client.get(path, headers=stack.admin.headers)
    assert first.json()["intact"] is True
    # The first verification is on the trail itself, so the trail has records to edit.
    assert (await stack.client.get(path, headers=stack.admin.headers)).json()["records"] > 0
    url = clean_databases["gateway"]
    ((chain,),) = await _execute(url, "SELECT chain FROM audit_records WHERE seq = 1 LIMIT 1")
    await _execute(
        url, f"UPDATE audit_records SET detail = 'edited' WHERE chain = {chain} AND seq = 1"
    )
    broken = (await stack.client.get(path, headers=stack.admin.headers)).json()
    assert broken["intact"] is False
    assert (broken["broken_chain"], broken["first_broken_seq"]) == (chain, 1)
    assert broken["reason"] == "record content does not match its hash"


async def test_only_administrators_verify(stack: Stack, clean_databases: Urls) -> None:
    hospital = await stack.organization()
    coordinator = await stack.actor("coordinator", hospital)
    for service in ("gateway", "consult"):
        refused = await stack.client.get(
            f"/api/{service}/audit/verification", headers=coordinator.headers
        )
        assert refused.status_code == 403, refused.text
    denials = await _execute(
        clean_databases["consult"],
        "SELECT actor_role FROM audit_records WHERE action = 'audit.verify' AND outcome = 'denied'",
    )
    assert denials == [("coordinator",)]
