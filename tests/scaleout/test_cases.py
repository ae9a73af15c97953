"""Two editors of one case, and two specialists taking one case, through different consult
instances: the database lets exactly one of them win."""

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.orm.exc import StaleDataError

from services.common.db import Database
from services.consult.cases.models import Case
from tests.consult.conftest import CONSULT, World
from tests.scaleout.conftest import ScaledStack


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


async def one_through_each(scaled: ScaledStack, route: str, *requests: Any) -> list[Any]:
    """Sends `requests` at once and checks the two consult instances got one each."""
    method = "POST" if route.endswith("accept") else "PATCH"
    before = await scaled.served("consult", method, route)
    responses = await asyncio.gather(*requests)
    after = await scaled.served("consult", method, route)
    assert [now - then for now, then in zip(after, before, strict=True)] == [1, 1]
    return list(responses)


async def test_two_edits_of_one_version_one_is_stored_the_other_is_412(
    scaled: ScaledStack, consult_world: World
) -> None:
    case = await consult_world.create()
    path = f"{CONSULT}/cases/{case['id']}"
    medic = consult_world.medic.headers
    read = await scaled.client.get(path, headers=medic)
    assert read.json()["version"] == 1
    assert read.headers["etag"] == '"1"'

    questions = ("Is PCI indicated within 24 hours?", "Is thrombolysis indicated now?")
    edits = await one_through_each(scaled, "/api/consult/cases/{case_id}", *(
        scaled.client.patch(path, json={"question": question}, headers=medic | {"If-Match": '"1"'})
        for question in questions
    ))  # fmt: skip
    assert sorted(edit.status_code for edit in edits) == [200, 412], [e.text for e in edits]
    stored = next(edit for edit in edits if edit.status_code == 200)
    refused = problem(next(edit for edit in edits if edit.status_code == 412), 412)
    assert stored.json()["version"] == 2
    assert stored.headers["etag"] == '"2"'
    assert refused["current_version"] == 2

    # No lost update: the case holds the stored edit; the other editor re-reads and re-applies.
    now = await scaled.client.get(path, headers=medic)
    assert (now.json()["question"], now.json()["version"]) == (stored.json()["question"], 2)
    other = next(q for q in questions if q != stored.json()["question"])
    reread = medic | {"If-Match": now.headers["etag"]}
    again = await scaled.client.patch(path, json={"question": other}, headers=reread)
    assert (again.status_code, again.json()["version"]) == (200, 3)
    weak_or_old = medic | {"If-Match": 'W/"3", "2"'}
    stale = await scaled.client.patch(path, json={"question": "?"}, headers=weak_or_old)
    assert problem(stale, 412)["current_version"] == 3  # a weak tag never matches
    # Clients that send no `If-Match` (or `*`) edit as before, and still raise the version.
    for condition in ({}, {"If-Match": "*"}):
        blind = await scaled.client.patch(path, json={"mode": "video"}, headers=medic | condition)
        assert blind.status_code == 200, blind.text
    assert blind.json()["version"] == 4  # the second changed nothing, so stored nothing


async def test_two_specialists_accept_at_once_through_two_instances_one_wins(
    scaled: ScaledStack, consult_world: World
) -> None:
    case = await consult_world.create(submit=True)
    specialists = (consult_world.cardiologist, consult_world.colleague)
    accepts = await one_through_each(scaled, "/api/consult/cases/{case_id}/accept", *(
        consult_world.act(specialist, case["id"], "accept") for specialist in specialists
    ))  # fmt: skip
    assert sorted(accept.status_code for accept in accepts) == [200, 409]
    won = next(accept.json() for accept in accepts if accept.status_code == 200)
    lost = problem(next(accept for accept in accepts if accept.status_code == 409), 409)
    assert lost["current_status"] == "accepted"
    winner = next(s for s in specialists if str(s.id) == won["assignee_id"])
    database: Database = scaled.apps("consult")[0].state.database
    async with database.sessionmaker() as session:
        stored = await session.get(Case, uuid.UUID(case["id"]))
    assert stored is not None
    assert (stored.status.value, stored.assignee_id) == ("accepted", winner.id)
    assert stored.version == won["version"] == 3  # created, submitted, accepted


async def test_a_write_from_a_stale_read_is_refused_by_the_database(
    scaled: ScaledStack, consult_world: World
) -> None:
    """Beneath the row lock: two sessions that read version 1 without locking both write;
    the UPDATE carries `version = 1`, so the second matches no row and stores nothing."""
    case_id = uuid.UUID((await consult_world.create())["id"])
    first, second = (app.state.database for app in scaled.apps("consult"))
    async with second.sessionmaker() as two:
        theirs = await two.get(Case, case_id)
        assert theirs is not None
        two.expunge(theirs)  # kept as read, while SQLite's write lock (taken at BEGIN) goes
        await two.rollback()
        async with first.sessionmaker() as one:
            mine = await one.get(Case, case_id)
            assert mine is not None
            mine.question = "first"
            await one.commit()
        two.add(theirs)
        theirs.question = "second"
        with pytest.raises(StaleDataError):
            await two.commit()
    async with first.sessionmaker() as session:
        stored = await session.get(Case, case_id)
    assert stored is not None
    assert (stored.question, stored.version) == ("first", 2)
