"""A week of free slots as the booking and moving screens show it: per day in the specialist's
zone, per specialist, each slot a button of one form whose value names the schedule and the
start (one CSRF token for the whole week, not one per slot)."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from web.cases.schemas import Person
from web.registry.api import instant
from web.registry.schemas import Slot
from web.registry.week import by_day, day_title, two_zones


@dataclass(frozen=True)
class SlotButton:
    value: str
    label: str


@dataclass(frozen=True)
class Row:
    """One specialist's free slots of one day."""

    practitioner_id: uuid.UUID | None
    name: str | None
    zone: str
    slots: list[SlotButton]


@dataclass(frozen=True)
class SlotDay:
    title: str
    rows: list[Row]


def slot_value(slot: Slot) -> str:
    return f"{slot.schedule_id} {instant(slot.start)}"


def parse_slot(value: str) -> tuple[uuid.UUID, datetime] | None:
    """A slot button's value back as the schedule and the start; None when it is not one."""
    schedule, _, start = value.partition(" ")
    try:
        return uuid.UUID(schedule), datetime.fromisoformat(start.replace("Z", "+00:00"))
    except ValueError:
        return None


def slot_days(
    slots: list[Slot], reader_zone: str | None, language: str, people: dict[uuid.UUID, Person]
) -> list[SlotDay]:
    days = []
    zone = slots[0].local.timezone if slots else "UTC"
    for day, of_day in by_day(slots, lambda slot: slot.start, zone):
        rows: dict[uuid.UUID, Row] = {}
        for slot in of_day:
            person = people.get(slot.practitioner_id) if slot.practitioner_id else None
            row = rows.setdefault(
                slot.schedule_id,
                Row(
                    slot.practitioner_id,
                    person.full_name if person else None,
                    slot.local.timezone,
                    [],
                ),
            )
            label = two_zones(slot.start, slot.local.timezone, reader_zone, language)
            row.slots.append(SlotButton(slot_value(slot), label))
        days.append(SlotDay(day_title(day, language), list(rows.values())))
    return days
