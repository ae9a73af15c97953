"""Home-visit calls in the hotline's day: the catchment of the benchmark's districts, each
polyclinic's coordinator and nurse, the operator's call (the preview read out, then the call
filed), and each polyclinic's desk working its day's list (send the nurse, who marks it done).
"""

import asyncio
import random
from collections import defaultdict
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlencode

import httpx

from bench.support import Actor

CONSULT = "/api/consult"
EVERY = 14  # appeals between two home-visit calls: 1 call in 15 is a home visit
URGENT_SHARE = 0.2
POLL_SECONDS = 0.5  # a polyclinic's desk looks at its list again when it found nothing new
# Why callers ask a doctor or nurse home (a polyclinic call centre's mix).
REASONS = (
    "Blood draw at home: a disabled woman, bedridden after a stroke.",
    "Fever of 38.5 since yesterday, cough; cannot come to the polyclinic.",
    "Dressing of a post-operative wound; the patient does not walk.",
    "Blood pressure 180/100 since the morning, headache, a 78-year-old.",
    "A child of three with a fever of 39 and a rash.",
)


class Desk(Protocol):
    """A person's connection to the gateway (`hotline_day.Operator`)."""

    rng: random.Random

    def call(
        self, operation: str, method: str, path: str, body: Any = None, expect: int = 200
    ) -> Awaitable[Any]: ...


class Staffing(Protocol):
    """Who sets the day up: an administrator's client of the gateway that creates users
    (`support.Directory` in process, `hotline_new_appeal.Admin` against `telemed run`)."""

    client: httpx.Client

    def actor(self, username: str, role: str, organization: dict[str, Any]) -> Actor: ...


@dataclass(frozen=True)
class Staff:
    organization_id: str
    coordinator: Actor
    nurse: Actor


@dataclass
class Rounds:
    """What the operators filed, for the polyclinics' desks: the local days their lists have
    calls on, and when the operators are done."""

    days: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    filed: int = 0
    done: int = 0
    operators_finished: asyncio.Event = field(default_factory=asyncio.Event)


def set_up(
    directory: Staffing, organizations: dict[str, dict[str, Any]], editor: Actor
) -> dict[str, Staff]:
    """Each district's whole territory on the region's catchment, served by the organisation
    that answers its appeals (`editor`: a coordinator of the region), and its coordinator and
    district nurse; by organisation id."""
    staff = {}
    lines = f"{CONSULT}/home-visit-catchment"
    # A system seeded with the demo has its own polyclinics on these territories: replaced.
    for old in directory.client.get(lines, params={"region": "42"}, headers=editor.headers).json():
        if old["territory_code"] in organizations and not old["settlement"]:
            directory.client.delete(f"{lines}/{old['id']}", headers=editor.headers)
    for number, (code, organization) in enumerate(organizations.items()):
        line = {"region": "42", "territory": code, "organization_id": organization["id"]}
        response = directory.client.post(lines, json=line, headers=editor.headers)
        if response.status_code != 201:
            raise RuntimeError(f"the catchment refused {line}: {response.text[:300]}")
        staff[organization["id"]] = Staff(
            organization["id"],
            directory.actor(f"visits.coordinator.{number:02d}", "coordinator", organization),
            directory.actor(f"visits.nurse.{number:02d}", "district_medic", organization),
        )
    return staff


async def file_call(desk: Desk, index: int, territory: str, town: str, rounds: Rounds) -> None:
    """The caller's address gives the polyclinic and window to read out; then the call."""
    address = {"territory": territory, "settlement": town}
    preview = f"{CONSULT}/home-visit-preview?{urlencode(address)}"
    await desk.call("home visit preview", "GET", preview)
    body = address | {
        "address": f"Lenina {index % 90 + 1}, flat {index % 40 + 1}",
        "caller_name": f"Caller {index}",
        "phone": f"+7 913 {index:07d}",
        "reason": desk.rng.choice(REASONS),
        "urgency": "urgent" if desk.rng.random() < URGENT_SHARE else "planned",
    }
    visit = await desk.call("home visit create", "POST", f"{CONSULT}/home-visits", body, 201)
    if visit is not None:
        rounds.days[visit["organization_id"]].add(visit["window"]["visit_day"])
        rounds.filed += 1


class Polyclinic:
    """A polyclinic's coordinator at its day's list, sending its nurse to each new call, and
    the nurse marking each visit done: one connection each."""

    def __init__(self, staff: Staff, coordinator: Desk, nurse: Desk) -> None:
        self.staff, self.coordinator, self.nurse = staff, coordinator, nurse

    async def work_list(self, days: set[str], rounds: Rounds) -> int:
        worked = 0
        for day in sorted(days):
            query = urlencode(
                {"organization_id": self.staff.organization_id, "day": day, "status": "requested"}
            )
            page = await self.coordinator.call(
                "home visit list", "GET", f"{CONSULT}/home-visits?{query}"
            )
            for visit in page["items"] if page else ():
                path = f"{CONSULT}/home-visits/{visit['id']}"
                sent = {"assignee_id": self.staff.nurse.id}
                # A refused step is the tally's error; the visit is not tried again (the list
                # would offer it for ever).
                if not await self.coordinator.call(
                    "home visit assign", "POST", f"{path}/assign", sent
                ):
                    continue
                worked += 1
                note = {"note": "Visited; blood drawn, samples to the laboratory."}
                if await self.nurse.call("home visit done", "POST", f"{path}/done", note):
                    rounds.done += 1
        return worked

    async def work(self, rounds: Rounds) -> None:
        """Until the operators are done and the list has nothing new."""
        while True:
            finished = rounds.operators_finished.is_set()
            worked = await self.work_list(set(rounds.days[self.staff.organization_id]), rounds)
            if finished and not worked:
                return
            if not worked:
                await asyncio.sleep(POLL_SECONDS)
