"""Figures by local day: one organisation's figures, and each organisation's group, count the
days of the organisation's own zone; the totals across organisations count the deployment's
(UTC here). Live and rolled up alike, each zone's roll-up apart from the others'.

The region's hospital H and centre C keep Novokuznetsk's time (UTC+7); a polyclinic P of the
same region keeps Samara's (UTC+4). The clock stands at 20 March 2026, 12:00 UTC.
"""

import uuid
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from services.consult.appeals.enums import AppealStatus
from services.consult.cases.enums import CaseStatus
from services.consult.stats.gauges import refresh
from services.consult.stats.models import StatsDay, StatsFigure
from tests.conftest import Stack, running_stack
from tests.consult.conftest import CONSULT, World
from tests.consult.test_stats import NOW, DataSet, at, channels, database, figures
from tests.scheduling.conftest import assert_problem

NOVOKUZNETSK, SAMARA = "Asia/Novokuznetsk", "Europe/Samara"


@pytest.fixture
async def stack(clean_databases: dict[str, str], tmp_path: Path) -> AsyncIterator[Stack]:
    """The background jobs pushed an hour away: only the tests roll up, when they choose."""
    overrides = {
        "consult": {"stats_interval_seconds": 3600.0, "appeal_escalation_interval_seconds": 3600.0}
    }
    async with running_stack(clean_databases, tmp_path, overrides) as running:
        running.apps["consult"].state.clock = lambda: NOW
        yield running


def day(on: str) -> dict[str, str]:
    return {"from": on, "to": on}


def received(body: dict[str, Any]) -> dict[str | None, int]:
    """Appeals received per organisation's group."""
    return {group["organization_id"]: group["appeals"]["received"] for group in body["groups"]}


async def test_an_appeal_at_2330_utc_is_the_organisations_next_day_and_the_totals_same_day(
    world: World,
) -> None:
    data = DataSet(world)
    hospital = str(data.hospital)
    # 23:30 UTC on 2 March is 06:30 on 3 March in Novokuznetsk.
    data.appeal(at(3, 2, 23, 30), AppealStatus.ROUTED, at(3, 3, 23, 30), organization=data.hospital)
    await data.store(database(world))
    coordinator = world.coordinator

    own = await figures(world, coordinator, organization_id=hospital, **day("2026-03-03"))
    assert (own["timezone"], own["timezone_of"]) == (NOVOKUZNETSK, "organization")
    assert own["totals"]["timezone"] == NOVOKUZNETSK
    assert own["totals"]["appeals"]["received"] == 1
    assert own["hotline_days"] == [{"day": "2026-03-03", "by_channel": channels(phone=1)}]
    before = await figures(world, coordinator, organization_id=hospital, **day("2026-03-02"))
    assert before["totals"]["appeals"]["received"] == 0

    total = await figures(world, coordinator, **day("2026-03-02"))
    assert (total["timezone"], total["timezone_of"]) == ("UTC", "deployment")
    assert total["totals"]["timezone"] == "UTC"
    assert total["totals"]["appeals"]["received"] == 1
    assert total["hotline_days"] == [{"day": "2026-03-02", "by_channel": channels(phone=1)}]
    # The hospital's own group counts its own days: nothing on its 2 March (the group is
    # there for its appeal overdue now, whenever it came)...
    assert received(total) == {hospital: 0}
    # ...and the appeal on its 3 March, when the deployment's 3 March has none.
    next_day = await figures(world, coordinator, **day("2026-03-03"))
    assert next_day["totals"]["appeals"]["received"] == 0
    assert received(next_day) == {hospital: 1}
    assert [group["timezone"] for group in next_day["groups"]] == [NOVOKUZNETSK]

    articles = await world.stack.client.get(
        f"{CONSULT}/stats/articles",
        params={"organization_id": hospital},
        headers=coordinator.headers,
    )
    assert articles.status_code == 200, articles.text
    assert (articles.json()["timezone"], articles.json()["timezone_of"]) == (
        NOVOKUZNETSK,
        "organization",
    )


async def test_each_side_of_local_midnight(world: World) -> None:
    data = DataSet(world)
    hospital, centre = str(data.hospital), str(data.centre)
    # 16:59 UTC is 23:59 in Novokuznetsk on 5 March; 17:00 UTC is midnight of 6 March.
    for moment in (at(3, 5, 16, 59), at(3, 5, 17, 0)):
        data.appeal(moment, AppealStatus.ROUTED, at(3, 7, 9), organization=data.hospital)
        data.case("cardiology", moment, CaseStatus.SUBMITTED, at(3, 7, 9))
    await data.store(database(world))
    coordinator = world.coordinator
    for on in ("2026-03-05", "2026-03-06"):
        own = await figures(world, coordinator, organization_id=hospital, **day(on))
        assert own["totals"]["appeals"]["received"] == 1, on
        centres = await figures(world, coordinator, organization_id=centre, **day(on))
        assert centres["totals"]["cases"]["submitted"] == 1, on
        grouped = await figures(world, coordinator, **day(on))
        assert received(grouped)[hospital] == 1, on
        cases = {
            group["organization_id"]: group["cases"]["submitted"] for group in grouped["groups"]
        }
        assert cases[centre] == 1, on
    # Both on the deployment's 5 March, neither on its 6th.
    fifth = await figures(world, coordinator, **day("2026-03-05"))
    assert fifth["totals"]["appeals"]["received"] == fifth["totals"]["cases"]["submitted"] == 2
    sixth = await figures(world, coordinator, **day("2026-03-06"))
    assert sixth["totals"]["appeals"]["received"] == sixth["totals"]["cases"]["submitted"] == 0
    # By specialty the groups are across organisations: the deployment's days.
    specialties = await figures(world, coordinator, group_by="specialty", **day("2026-03-05"))
    assert [(group["specialty"], group["timezone"]) for group in specialties["groups"]] == [
        ("cardiology", "UTC")
    ]
    assert specialties["groups"][0]["cases"]["submitted"] == 2


async def test_two_zones_roll_up_apart(world: World) -> None:
    polyclinic = await world.stack.organization(region="42", timezone=SAMARA)
    data = DataSet(world)
    samaran = uuid.UUID(polyclinic["id"])
    hospital, other = str(data.hospital), polyclinic["id"]
    # 18:30 UTC on 2 March: 01:30 on the 3rd in Novokuznetsk, 22:30 on the 2nd in Samara.
    data.appeal(at(3, 2, 18, 30), AppealStatus.ROUTED, at(3, 4, 9), organization=data.hospital)
    # 21:30 UTC on 2 March: 04:30 on the 3rd in Novokuznetsk, 01:30 on the 3rd in Samara.
    data.appeal(at(3, 2, 21, 30), AppealStatus.ROUTED, at(3, 4, 9), organization=samaran)
    await data.store(database(world))
    coordinator = world.coordinator
    queries = {on: day(on) for on in ("2026-03-02", "2026-03-03")}
    live = {on: await figures(world, coordinator, **query) for on, query in queries.items()}
    # Each organisation's 3 March holds its appeal; the deployment's 2 March holds both.
    assert received(live["2026-03-03"]) == {hospital: 1, other: 1}
    zones = {group["organization_id"]: group["timezone"] for group in live["2026-03-03"]["groups"]}
    assert zones == {hospital: NOVOKUZNETSK, other: SAMARA}
    assert live["2026-03-03"]["totals"]["appeals"]["received"] == 0
    assert received(live["2026-03-02"]) == {hospital: 0, other: 0}  # both overdue now
    assert live["2026-03-02"]["totals"]["appeals"]["received"] == 2

    await refresh(world.stack.apps["consult"])
    for on, query in queries.items():
        assert await figures(world, coordinator, **query) == live[on], on
    received_metric = StatsFigure.metric == "appeals.received"
    rows = (
        select(StatsFigure.timezone, StatsFigure.day, StatsFigure.organization_id)
        .where(received_metric, StatsFigure.span == "day")
        .group_by(StatsFigure.timezone, StatsFigure.day, StatsFigure.organization_id)
        .having(func.sum(StatsFigure.count) == 1)
    )
    async with database(world).sessionmaker() as session:
        stored = set((await session.execute(rows)).all())
        zones_rolled = set(await session.scalars(select(StatsDay.timezone).distinct()))
    # Every zone asked for rolled up beside the deployment's, each cutting its own days.
    assert zones_rolled == {"UTC", NOVOKUZNETSK, SAMARA}
    second, third = date(2026, 3, 2), date(2026, 3, 3)
    assert stored == {
        ("UTC", second, data.hospital),
        ("UTC", second, samaran),
        (NOVOKUZNETSK, third, data.hospital),
        (NOVOKUZNETSK, third, samaran),
        (SAMARA, second, data.hospital),
        (SAMARA, third, samaran),
    }


async def test_an_unknown_organisation_is_not_found(world: World) -> None:
    admin = world.stack.admin
    assert admin is not None
    response = await world.stack.client.get(
        f"{CONSULT}/stats", params={"organization_id": str(uuid.uuid4())}, headers=admin.headers
    )
    assert_problem(response, 404)


async def test_without_a_last_day_each_organisation_runs_to_its_own_today(world: World) -> None:
    # 20:00 UTC on 20 March is already 03:00 on the 21st in Novokuznetsk.
    world.stack.apps["consult"].state.clock = lambda: at(3, 20, 20)
    data = DataSet(world)
    hospital = str(data.hospital)
    data.appeal(at(3, 20, 18), AppealStatus.ROUTED, at(3, 21, 18), organization=data.hospital)
    await data.store(database(world))
    body = await figures(world, world.coordinator)
    assert (body["to"], body["timezone"]) == ("2026-03-20", "UTC")
    assert body["totals"]["appeals"]["received"] == 1
    assert received(body) == {hospital: 1}  # on its own 21 March
    own = await figures(world, world.coordinator, organization_id=hospital)
    assert (own["to"], own["totals"]["appeals"]["received"]) == ("2026-03-21", 1)
    # A last day asked for is each organisation's last day too.
    asked = await figures(world, world.coordinator, to="2026-03-20")
    assert received(asked) == {}
