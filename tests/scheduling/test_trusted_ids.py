"""The patient a booking or an episode names is checked in the directory: a random id, a
coordinator's id or another organisation's patient is a 422 naming `patient_id`, on record as
a denial, with nothing stored; the organisation's own patient is booked."""

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from sqlalchemy import func, select

from services.scheduling.models import KERNEL_TABLES, Appointment, Episode
from tests.scheduling.conftest import SCHEDULING, World, assert_problem, local

TUESDAY = "2025-10-21"
Attempt = Callable[[str], Awaitable[httpx.Response]]


async def _strangers(world: World) -> dict[str, str]:
    """Ids a district medic of the hospital may not name as their patient."""
    elsewhere = await world.stack.organization(kind="district_hospital")
    outsider = await world.stack.actor("patient", elsewhere)
    return {
        "a random id": str(uuid.uuid4()),
        "a coordinator": str(world.coordinator.id),
        "a colleague": str(world.other_medic.id),
        "another organisation's patient": str(outsider.id),
    }


async def _stored(world: World) -> tuple[int, int]:
    async with world.database.sessionmaker() as session:
        appointments = await session.scalar(select(func.count()).select_from(Appointment))
        episodes = await session.scalar(select(func.count()).select_from(Episode))
    return appointments or 0, episodes or 0


async def _denials(world: World, action: str) -> list[str | None]:
    records = KERNEL_TABLES.audit.records
    query = select(records.c.detail).where(
        records.c.action == action, records.c.outcome == "denied"
    )
    async with world.database.sessionmaker() as session:
        return list((await session.scalars(query)).all())


async def _refused_each(world: World, attempt: Attempt, action: str) -> None:
    strangers = await _strangers(world)
    for who, patient_id in strangers.items():
        problem = assert_problem(await attempt(patient_id), 422)
        assert problem["detail"] == f"No patient {patient_id} of your organisation.", who
        assert problem["errors"] == [
            {"loc": ["body", "patient_id"], "msg": problem["detail"], "type": "unknown_person"}
        ], who
    assert await _stored(world) == (0, 0)
    denied = await _denials(world, action)
    assert len(denied) == len(strangers)


async def test_a_booking_names_a_patient_of_the_callers_organisation(world: World) -> None:
    async def book(patient_id: str) -> httpx.Response:
        return await world.book(local(TUESDAY, "10:00"), patient_id=patient_id)

    await _refused_each(world, book, "appointment.book")
    # The centre's coordinator sees the region's patients in the directory, but the hospital's
    # patient is not the centre's to book.
    foreign = await world.book(local(TUESDAY, "10:00"), world.coordinator)
    assert assert_problem(foreign, 422)["errors"][0]["loc"] == ["body", "patient_id"]
    d2d = await world.book(
        local(TUESDAY, "11:00"), visit_type="doctor_to_doctor", patient_id=str(uuid.uuid4())
    )
    assert assert_problem(d2d, 422)["errors"][0]["loc"] == ["body", "patient_id"]
    assert await _stored(world) == (0, 0)

    booked = await world.booked(local(TUESDAY, "10:00"))
    assert booked["patient_id"] == str(world.patient.id)
    assert await _stored(world) == (1, 1)


async def test_an_episode_is_opened_for_a_patient_of_the_callers_organisation(
    world: World,
) -> None:
    async def open_episode(patient_id: str, actor: Any = None) -> httpx.Response:
        return await world.client.post(
            f"{SCHEDULING}/episodes",
            json={"patient_id": patient_id, "specialty": "cardiology"},
            headers=(actor or world.medic).headers,
        )

    await _refused_each(world, open_episode, "episode.create")
    from_centre = await open_episode(str(world.patient.id), world.coordinator)
    assert assert_problem(from_centre, 422)["errors"][0]["loc"] == ["body", "patient_id"]
    # Who may open episodes at all is decided first: a specialist is refused whoever they name.
    assert_problem(await open_episode(str(uuid.uuid4()), world.cardiologist), 403)

    opened = await open_episode(str(world.patient.id))
    assert opened.status_code == 201, opened.text
    assert opened.json()["patient_id"] == str(world.patient.id)
    assert await _stored(world) == (0, 1)
