"""No 500 on extreme dates: years 0001 and 9999 (at the offsets that push them past Python's
range in UTC) in every route that takes a date or a time, and in a forged cursor, are bad
input named in the answer: a 422 problem, or a FHIR search's 400 OperationOutcome."""

import base64
import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import literal, select

from services.common.db import Database, UTCDateTime
from services.common.errors import install_problem_handlers
from services.common.times import FIRST_YEAR, LAST_YEAR
from tests.conftest import Actor, Stack

EARLY = "0001-01-01T00:00:00+14:00"  # before year 1 in UTC
LATE = "9999-12-31T23:00:00-12:00"  # after year 9999 in UTC
WEEKDAYS = [{"weekday": day, "start": "09:00", "end": "17:00"} for day in range(5)]


def forged_cursor(moment: str) -> str:
    raw = json.dumps([moment, str(uuid.uuid4())]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def _people(stack: Stack) -> dict[str, Any]:
    centre = await stack.organization(kind="regional_centre", timezone="Asia/Novosibirsk")
    hospital = await stack.organization(kind="district_hospital", timezone="Asia/Vladivostok")
    specialist = await stack.actor("specialist", centre, "cardiology")
    schedule = await stack.client.post(
        "/api/scheduling/schedules",
        json={"weekly_hours": WEEKDAYS, "slot_step_minutes": 15},
        headers=specialist.headers,
    )
    assert schedule.status_code == 201, schedule.text
    return {
        "specialist": specialist,
        "medic": await stack.actor("district_medic", hospital),
        "coordinator": await stack.actor("coordinator", hospital),
        "patient": await stack.actor("patient", hospital),
        "schedule": schedule.json(),
    }


def _requests(people: dict[str, Any], moment: str) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(who, method, path, httpx arguments) of each route that takes a date or a time."""
    day = moment[:10]
    specialist: Actor = people["specialist"]
    patient: Actor = people["patient"]
    schedule = people["schedule"]["id"]
    return [
        ("medic", "GET", "/api/scheduling/availability",
         {"params": {"visit_type": "in_person", "specialty": "cardiology",
                     "from": moment, "to": moment}}),
        ("medic", "GET", "/api/scheduling/availability",
         {"params": {"visit_type": "in_person", "practitioner": str(specialist.id),
                     "from": moment, "to": "2025-10-21T00:00:00+00:00"}}),
        ("medic", "GET", "/api/scheduling/appointments", {"params": {"from": moment}}),
        ("medic", "GET", "/api/scheduling/appointments", {"params": {"to": moment}}),
        ("medic", "GET", "/api/scheduling/appointments",
         {"params": {"cursor": forged_cursor(moment)}}),
        ("medic", "POST", "/api/scheduling/appointments",
         {"json": {"practitioner_id": str(specialist.id), "visit_type": "in_person",
                   "start": moment, "patient_id": str(patient.id)}}),
        ("specialist", "POST", f"/api/scheduling/schedules/{schedule}/exceptions",
         {"json": {"kind": "unavailable", "start": moment, "end": moment}}),
        ("specialist", "POST", f"/api/scheduling/schedules/{schedule}/exceptions",
         {"json": {"kind": "extra", "start": "2025-10-20T00:00:00+00:00", "end": moment}}),
        ("specialist", "POST", "/api/video/rooms",
         {"json": {"kind": "d2d", "title": "Case review", "starts_at": moment}}),
        ("coordinator", "GET", "/api/consult/stats", {"params": {"from": day}}),
        ("coordinator", "GET", "/api/consult/stats", {"params": {"to": day}}),
        ("medic", "GET", "/api/consult/cases", {"params": {"cursor": forged_cursor(moment)}}),
        ("coordinator", "GET", "/api/consult/appeals",
         {"params": {"cursor": forged_cursor(moment)}}),
    ]  # fmt: skip


@pytest.mark.parametrize("moment", [EARLY, LATE])
async def test_extreme_dates_are_bad_input(stack: Stack, moment: str) -> None:
    people = await _people(stack)
    answers = []
    for who, method, path, arguments in _requests(people, moment):
        actor: Actor = people[who]
        response = await stack.client.request(method, path, headers=actor.headers, **arguments)
        answers.append((method, path, response.status_code, response.text))
        assert response.headers["content-type"] == "application/problem+json", answers[-1]
    refused = [answer for answer in answers if answer[2] not in (400, 422)]
    assert refused == []
    # The answer names what is wrong: the parameter or field, and the years taken.
    years = [answer for answer in answers if f"from {FIRST_YEAR} to {LAST_YEAR}" in answer[3]]
    assert len(years) >= len(answers) - 3  # the cursors are only "not one this service issued"


@pytest.mark.parametrize(
    ("resource", "value"),
    [
        ("Task", "0001"),
        ("Task", "9999"),
        ("ServiceRequest", "9999-12"),
        ("DiagnosticReport", "9999-12-31"),
        ("Observation", "ge0001-01-01"),
        ("Appointment", f"lt{EARLY}"),
        ("Appointment", f"gt{LATE}"),
        ("DocumentReference", "eq9999-12-31T23:59:59-12:00"),
    ],
)
async def test_fhir_searches_refuse_extreme_dates(stack: Stack, resource: str, value: str) -> None:
    hospital = await stack.organization()
    medic = await stack.actor("district_medic", hospital)
    response = await stack.client.get(
        f"/api/fhir/{resource}", params={"date": value}, headers=medic.headers
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/fhir+json"
    (issue,) = response.json()["issue"]
    assert issue["expression"] == ["date"]
    assert f"from {FIRST_YEAR} to {LAST_YEAR}" in issue["diagnostics"]


async def test_an_instant_that_slips_through_is_still_bad_input(tmp_path: Path) -> None:
    """Should a route take an instant without the bounded types, the column type refuses it
    where it is bound (wrapped by SQLAlchemy), and it is still the client's 422."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path}/slip.sqlite3")
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/slip")
    async def slip(moment: datetime) -> None:
        async with database.sessionmaker() as session:
            await session.execute(select(literal(moment, UTCDateTime)))

    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.get("/slip", params={"moment": EARLY})
    finally:
        await database.dispose()
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert f"{FIRST_YEAR} to {LAST_YEAR}" in response.json()["detail"]
