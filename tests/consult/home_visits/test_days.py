"""The day a call is put on and the window read out, in the polyclinic's own zone: before
the cut-off on a working day it is today's, after it the next working day's; midnight is the
polyclinic's, not UTC's; a polyclinic's own rule replaces the deployment's."""

import uuid
from datetime import date, datetime, time
from typing import Any

from services.consult.home_visits.settings import VisitRule
from tests.consult.home_visits.conftest import (
    KHABAROVSK,
    KHABAROVSK_ZONE,
    KUZBASS,
    TASHTAGOL,
    Calls,
    local,
)


def window(visit: dict[str, Any]) -> tuple[str, str, str, datetime, datetime]:
    found = visit["window"]
    return (
        found["visit_day"],
        found["window_opens"],
        found["window_closes"],
        datetime.fromisoformat(found["window_starts_at"]),
        datetime.fromisoformat(found["window_ends_at"]),
    )


async def test_the_cut_off_makes_a_call_todays_or_the_next_working_days(calls: Calls) -> None:
    calls.clock.now = local("2025-10-20T11:59")  # Monday
    today = await calls.call()
    assert window(today) == (
        "2025-10-20",
        "12:00:00",
        "18:00:00",
        local("2025-10-20T12:00"),
        local("2025-10-20T18:00"),
    )
    assert today["window"]["timezone"] == KUZBASS
    assert today["status"] == "requested"
    assert today["organization_id"] == calls.tashtagol["id"]
    calls.clock.now = local("2025-10-20T12:00")
    assert window(await calls.call())[0] == "2025-10-21"
    # Sheregesh works Monday to Friday: Friday afternoon's and Saturday morning's go to Monday.
    for moment in ("2025-10-24T15:00", "2025-10-25T09:00"):
        calls.clock.now = local(moment)
        visit = await calls.call(settlement="Шерегеш")
        assert visit["organization_id"] == calls.sheregesh["id"]
        assert window(visit)[0] == "2025-10-27"
    # The preview said the same before saving.
    preview = await calls.get(
        calls.operator, "/home-visit-preview", territory=TASHTAGOL, settlement="Шерегеш"
    )
    assert preview.json()["window"]["visit_day"] == "2025-10-27"
    assert preview.json()["organization_name"] == calls.sheregesh["name"]


async def test_the_day_is_the_polyclinics_own_across_midnight(calls: Calls) -> None:
    # 00:30 on Tuesday in Khabarovsk is still Monday in UTC, and in Kuzbass.
    calls.clock.now = local("2025-10-21T00:30", KHABAROVSK_ZONE)
    assert calls.clock.now.astimezone(local("2025-10-21T00:00").tzinfo).date() == date(2025, 10, 20)
    visit = await calls.call(calls.far_operator, territory=KHABAROVSK, settlement="", street="")
    assert window(visit) == (
        "2025-10-21",
        "12:00:00",
        "18:00:00",
        local("2025-10-21T12:00", KHABAROVSK_ZONE),
        local("2025-10-21T18:00", KHABAROVSK_ZONE),
    )
    listed = await calls.get(
        calls.far_operator, "/home-visits", organization_id=calls.khabarovsk["id"]
    )
    assert listed.json()["visit_day"] == "2025-10-21"
    assert [item["id"] for item in listed.json()["items"]] == [visit["id"]]


async def test_a_polyclinic_keeps_its_own_cut_off_and_window(calls: Calls) -> None:
    settings = calls.stack.apps["consult"].state.settings
    rule = VisitRule(cutoff=time(10), window_opens=time(13), window_closes=time(17))
    settings.home_visit_rules[uuid.UUID(calls.tashtagol["id"])] = rule
    calls.clock.now = local("2025-10-20T10:30")
    visit = await calls.call()
    assert window(visit)[:3] == ("2025-10-21", "13:00:00", "17:00:00")
    # Sheregesh keeps the deployment's: before noon is today's.
    assert window(await calls.call(settlement="Шерегеш"))[:3] == (
        "2025-10-20",
        "12:00:00",
        "18:00:00",
    )
