"""One slot booked at the same moment through both scheduling instances: one booking, and
every other request a 409 naming the slot."""

import asyncio
from collections import Counter
from datetime import datetime

from sqlalchemy import func, select

from services.common.db import Database
from services.scheduling.models import Appointment
from tests.scaleout.conftest import ScaledStack
from tests.scheduling.conftest import CENTRE_ZONE, SCHEDULING, WEEKDAYS, Clock, local

TUESDAY = "2025-10-21"
ATTEMPTS = 20


async def test_simultaneous_bookings_of_one_slot_through_both_instances(
    scaled: ScaledStack,
) -> None:
    clock = Clock()
    for app in scaled.apps("scheduling"):
        app.state.clock = clock  # both instances take the same "now"
    centre = await scaled.stack.organization(kind="regional_centre", timezone=CENTRE_ZONE)
    hospital = await scaled.stack.organization()
    cardiologist = await scaled.stack.actor("specialist", centre, "cardiology")
    medic = await scaled.stack.actor("district_medic", hospital)
    patient = await scaled.stack.actor("patient", hospital)
    schedule = await scaled.client.post(
        f"{SCHEDULING}/schedules", json={"weekly_hours": WEEKDAYS, "slot_step_minutes": 15},
        headers=cardiologist.headers,
    )  # fmt: skip
    assert schedule.status_code == 201, schedule.text
    booking = {"practitioner_id": str(cardiologist.id), "visit_type": "in_person",
               "start": local(TUESDAY, "11:00"), "patient_id": str(patient.id)}  # fmt: skip
    route = "/api/scheduling/appointments"

    before = await scaled.served("scheduling", "POST", route)
    responses = await asyncio.gather(*(
        scaled.client.post(route, json=booking, headers=medic.headers) for _ in range(ATTEMPTS)
    ))  # fmt: skip
    after = await scaled.served("scheduling", "POST", route)
    added = [now - then for now, then in zip(after, before, strict=True)]
    assert sum(added) == ATTEMPTS
    assert min(added) >= 1, added

    assert Counter(r.status_code for r in responses) == {201: 1, 409: ATTEMPTS - 1}
    winner = next(r.json() for r in responses if r.status_code == 201)
    for response in responses:
        if response.status_code == 409:
            assert response.json()["taken_start"] == winner["start"]
    database: Database = scaled.apps("scheduling")[1].state.database
    async with database.sessionmaker() as session:
        holding = await session.scalar(
            select(func.count())
            .select_from(Appointment)
            .where(Appointment.starts_at == datetime.fromisoformat(winner["start"]))
        )
    assert holding == 1
