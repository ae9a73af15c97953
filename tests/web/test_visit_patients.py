"""Whom the video visits list names: the patient's name and birth date the visit kept at
booking, the directory asked only for a visit booked before scheduling kept them, and the age
in full years on the visit's day."""

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import cast

from web.cases.schemas import Person
from web.video.api import VideoApi
from web.video.schemas import Appointment, AppointmentPage, Room
from web.video.visits import visits_of
from web.visit_patients import VisitPatient, age_on

BORN = date(1956, 3, 14)


class Scheduled:
    """The calls `visits_of` makes, answered from the visits and the directory given, with
    no rooms of cases."""

    def __init__(self, items: list[Appointment], directory: dict[uuid.UUID, Person]) -> None:
        self.items, self.directory = items, directory
        self.asked: list[uuid.UUID] = []

    async def appointments(
        self, bearer: str, practitioner: uuid.UUID, starts_from: datetime, before: datetime
    ) -> AppointmentPage:
        return AppointmentPage(items=self.items)

    async def rooms(self, bearer: str) -> list[Room]:
        return []

    async def room_view(self, bearer: str, room_id: uuid.UUID) -> None:
        return None

    async def person(self, bearer: str, user_id: uuid.UUID) -> Person | None:
        self.asked.append(user_id)
        return self.directory.get(user_id)


def remote(start: datetime, **patient: object) -> Appointment:
    return Appointment.model_validate(
        {"id": uuid.uuid4(), "status": "booked", "visit_type": "remote", "start": start,
         "end": start + timedelta(minutes=30),
         "room": {"state": "ready", "room_id": uuid.uuid4()}, **patient}
    )  # fmt: skip


def test_the_age_counts_full_years() -> None:
    assert age_on(BORN, date(2026, 3, 13)) == 69
    assert age_on(BORN, date(2026, 3, 14)) == 70
    leap = date(2000, 2, 29)
    assert [age_on(leap, date(2025, 2, 28)), age_on(leap, date(2025, 3, 1))] == [24, 25]


async def test_a_kept_name_is_shown_and_only_older_visits_ask_the_directory() -> None:
    start = datetime.now(UTC) + timedelta(hours=1)
    kept, older = uuid.uuid4(), uuid.uuid4()
    visits = [
        remote(start, patient_id=kept, patient_name="Сидорова Мария Петровна",
               patient_birth_date=BORN),
        remote(start + timedelta(hours=1), patient_id=older),
    ]  # fmt: skip
    listed = Person(id=older, full_name="Лапин Олег", role="patient")
    api = Scheduled(visits, {older: listed})
    found = await visits_of(cast(VideoApi, api), "token", uuid.uuid4(), "specialist", "UTC")
    assert api.asked == [older]
    assert [visit.title for visit in found] == ["Сидорова Мария Петровна", "Лапин Олег"]
    day = start.date()
    assert found[0].patient == VisitPatient("Сидорова Мария Петровна", BORN, age_on(BORN, day))
    assert found[1].patient == VisitPatient("Лапин Олег")
