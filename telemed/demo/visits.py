"""The demo's visits: the cardiologist's schedule made ready for visits starting now, the
in-person first visit held and fulfilled, and remote follow-ups booked after it.

Nothing here bypasses a rule: the in-person visit is booked a few seconds ahead (the schedule
asks no notice), and marked fulfilled once it has begun, as the scheduling service requires.
"""

import asyncio
import math
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from zoneinfo import ZoneInfo

from telemed.demo.api import Actor, Api, StepFailed, problem_text

SCHEDULING = "/api/scheduling"
IN_PERSON_MINUTES, REMOTE_MINUTES = 5, 10
# Short visits without buffers: the first remote follow-up starts right after the in-person
# visit, inside the 15 minutes before its start in which the patient's join link opens.
DEMO_VISIT_TYPES = [
    {"type": "in_person", "duration_minutes": IN_PERSON_MINUTES},
    {"type": "remote", "duration_minutes": REMOTE_MINUTES},
    {"type": "doctor_to_doctor", "duration_minutes": 30},
    {"type": "consilium", "duration_minutes": 60, "buffer_before_minutes": 10,
     "buffer_after_minutes": 10},
]  # fmt: skip
WORKING_WEEK = [{"weekday": day, "start": "08:00", "end": "20:00"} for day in range(6)]
DEMO_HOURS = timedelta(hours=2)
LEAD = timedelta(seconds=3)  # the in-person visit is booked this far ahead of now
FIRST_VISIT_ATTEMPTS = 3
LONGEST_WAIT = timedelta(minutes=10)
MAX_VISIT = timedelta(hours=8)  # the longest visit a schedule offers
SAME_CLOCK_SECONDS = 2.0
FREEING = {"cancelled", "entered_in_error"}
LEFTOVER = {"proposed", "booked", "checked_in"}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def local(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class Clock:
    """The server's time: booking rules are judged by it, so a skewed local clock must not
    book in the past or wait too little. Taken from a `Date` header (one-second resolution)."""

    skew: float = 0.0

    def now(self) -> datetime:
        return datetime.fromtimestamp(time.time() + self.skew, UTC)

    async def set_from(self, api: Api) -> None:
        response = await api.call("GET", "/health")
        if "date" in response.headers:
            skew = parsedate_to_datetime(response.headers["date"]).timestamp() - time.time()
            # Within the header's resolution and a round trip, the clocks are taken as one.
            self.skew = skew if abs(skew) > SAME_CLOCK_SECONDS else 0.0

    async def sleep_until(self, moment: datetime) -> None:
        await asyncio.sleep(max(0.0, (moment - self.now()).total_seconds()))


def first_free_start(
    busy: list[tuple[datetime, datetime]], earliest: datetime, length: timedelta
) -> datetime:
    """The first whole second from `earliest` with `length` free of every busy span."""
    start = datetime.fromtimestamp(math.ceil(earliest.timestamp()), UTC)
    for busy_start, busy_end in sorted(busy):
        if busy_start < start + length and busy_end > start:
            start = datetime.fromtimestamp(math.ceil(busy_end.timestamp()), UTC)
    return start


@dataclass
class Visits:
    api: Api
    clock: Clock
    medic: Actor
    cardiologist: Actor
    patient: Actor
    schedule: dict[str, Any] | None = None
    cancelled_leftovers: int = 0
    busy_before: bool = False  # the first free start waits for a visit booked before it

    @property
    def zone(self) -> str:
        assert self.schedule is not None
        return str(self.schedule["timezone"])

    async def prepare_schedule(self) -> None:
        """The cardiologist's schedule with the demo's visit types and no notice; its weekly
        hours stay as they are (a working week when she has no schedule yet)."""
        found = await self.api.json(
            "GET", f"{SCHEDULING}/schedules", self.cardiologist,
            params={"specialty": "cardiology"},
        )  # fmt: skip
        mine = next((s for s in found if s["practitioner_id"] == str(self.cardiologist.id)), None)
        policy = {
            "weekly_hours": mine["weekly_hours"] if mine else WORKING_WEEK,
            "visit_types": DEMO_VISIT_TYPES, "slot_step_minutes": 5, "min_notice_minutes": 0,
            "horizon_days": mine["horizon_days"] if mine else 90,
        }  # fmt: skip
        if mine is None:
            self.schedule = await self.api.json(
                "POST", f"{SCHEDULING}/schedules", self.cardiologist, json=policy, expect=201
            )
        else:
            self.schedule = await self.api.json(
                "PUT", f"{SCHEDULING}/schedules/{mine['id']}", self.cardiologist, json=policy
            )

    async def book_first_visit(self, episode_id: str) -> dict[str, Any]:
        """The in-person visit at the first free start a few seconds ahead, in extra hours
        opened there. Should the requests take longer than that lead, the start has become
        too soon; then it is tried again from a new start."""
        for attempt in range(FIRST_VISIT_ATTEMPTS):
            start = await self._open_hours()
            body = {"practitioner_id": str(self.cardiologist.id), "visit_type": "in_person",
                    "start": iso(start), "episode_id": episode_id}  # fmt: skip
            last = attempt == FIRST_VISIT_ATTEMPTS - 1
            response = await self.api.call(
                "POST", f"{SCHEDULING}/appointments", self.cardiologist, json=body,
                expect=201 if last else (201, 422),
            )  # fmt: skip
            if response.status_code == 201:
                booked: dict[str, Any] = response.json()
                return booked
            if response.json().get("reason") != "too_soon":
                raise StepFailed(problem_text(response))
        raise AssertionError("unreachable: the last attempt raises or returns")

    async def _open_hours(self) -> datetime:
        """Cancels what an earlier run left unheld, then opens two hours of extra hours from
        the first free start (a one-second leave just before it anchors the slot grid there,
        whatever hours it joins). Returns that start."""
        earliest = self.clock.now() + LEAD
        start = first_free_start(
            await self._busy(), earliest, timedelta(minutes=IN_PERSON_MINUTES + REMOTE_MINUTES)
        )
        self.busy_before = start - earliest > timedelta(seconds=1)
        if start - self.clock.now() > LONGEST_WAIT:
            raise StepFailed(
                f"the cardiologist's schedule is taken until {local(start, self.zone)} "
                f"({self.zone}); run the demo again then"
            )
        await self._exception("unavailable", start - timedelta(seconds=1), start,
                              "telemed demo: its hours start here")  # fmt: skip
        await self._exception("extra", start, start + DEMO_HOURS, "telemed demo: visits now")
        return start

    async def _busy(self) -> list[tuple[datetime, datetime]]:
        """The schedule's visits around now. Those the cardiologist booked for the demo patient
        and nobody held (an earlier run leaves its follow-ups so) are cancelled first."""
        now, busy = self.clock.now(), []
        for item in await self._appointments(now - MAX_VISIT, now + DEMO_HOURS):
            unheld = (
                item["patient_id"] == str(self.patient.id)
                and item["booked_by"] == str(self.cardiologist.id)
                and item["status"] in LEFTOVER
                and parse(item["end"]) > now
            )
            if unheld:
                await self.api.call(
                    "POST", f"{SCHEDULING}/appointments/{item['id']}/cancel", self.cardiologist,
                    json={"reason": "Left by an earlier run of the telemed demo."},
                )  # fmt: skip
                self.cancelled_leftovers += 1
            elif item["status"] not in FREEING:
                busy.append((parse(item["start"]), parse(item["end"])))
        return busy

    async def _appointments(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """The cardiologist's appointments starting in [start, end), every page."""
        params = {"practitioner": str(self.cardiologist.id), "from": iso(start), "to": iso(end),
                  "limit": 200}  # fmt: skip
        items: list[dict[str, Any]] = []
        while True:
            page = await self.api.json(
                "GET", f"{SCHEDULING}/appointments", self.cardiologist, params=params
            )
            items += page["items"]
            if not page.get("next_cursor"):
                return items
            params["cursor"] = page["next_cursor"]

    async def _exception(self, kind: str, start: datetime, end: datetime, reason: str) -> None:
        assert self.schedule is not None
        await self.api.call(
            "POST", f"{SCHEDULING}/schedules/{self.schedule['id']}/exceptions",
            self.cardiologist, expect=201,
            json={"kind": kind, "start": iso(start), "end": iso(end), "reason": reason},
        )  # fmt: skip

    async def open_episode(self, case_id: str) -> dict[str, Any]:
        """The patient's organisation (the medic) opens the care episode with the cardiologist
        through the consultation, which links it; the cardiologist books within it."""
        body = {
            "patient_id": str(self.patient.id), "specialty": "cardiology",
            "practitioner_id": str(self.cardiologist.id),
        }  # fmt: skip
        episode: dict[str, Any] = await self.api.json(
            "POST", f"/api/consult/cases/{case_id}/episodes", self.medic, json=body, expect=201,
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )  # fmt: skip
        return episode

    async def book(self, episode_id: str, visit_type: str, start: datetime) -> dict[str, Any]:
        body = {"practitioner_id": str(self.cardiologist.id), "visit_type": visit_type,
                "start": iso(start), "episode_id": episode_id}  # fmt: skip
        booked: dict[str, Any] = await self.api.json(
            "POST", f"{SCHEDULING}/appointments", self.cardiologist, json=body, expect=201,
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )  # fmt: skip
        return booked

    async def fulfil(self, appointment: dict[str, Any]) -> dict[str, Any]:
        """The patient arrives; once the visit has begun (by the server's clock) it is
        fulfilled. A 409 while the server's clock is short of the start is asked again."""
        path = f"{SCHEDULING}/appointments/{appointment['id']}"
        await self.api.call("POST", f"{path}/arrive", self.cardiologist)
        start = parse(appointment["start"])
        await self.clock.sleep_until(start)
        deadline = time.monotonic() + 10
        while True:
            last = time.monotonic() > deadline  # then a 409 fails the step with its problem
            response = await self.api.call(
                "POST", f"{path}/fulfil", self.cardiologist, expect=200 if last else (200, 409)
            )
            if response.status_code == 200:
                fulfilled: dict[str, Any] = response.json()
                return fulfilled
            await asyncio.sleep(0.2)

    async def next_free(self, visit_type: str, after: datetime) -> datetime | None:
        """The cardiologist's first free slot in the 14 days from `after`, as the availability
        search offers it to anyone booking."""
        found = await self.api.json(
            "GET", f"{SCHEDULING}/availability", self.medic,
            params={"practitioner": str(self.cardiologist.id), "visit_type": visit_type,
                    "from": iso(after), "to": iso(after + timedelta(days=14)), "limit": 1},
        )  # fmt: skip
        return parse(found["slots"][0]["start"]) if found["slots"] else None

    async def room_ready(self, appointment: dict[str, Any], within: float = 30) -> dict[str, Any]:
        """The appointment once the video service has given its room (scheduling asks at
        booking, and its job asks again while the video service could not answer)."""
        deadline = time.monotonic() + within
        path = f"{SCHEDULING}/appointments/{appointment['id']}"
        while (appointment.get("room") or {}).get("state") != "ready":
            if time.monotonic() > deadline:
                raise StepFailed(
                    f"the video room of appointment {appointment['id']} is still "
                    f"{(appointment.get('room') or {}).get('state')} after {within:.0f} s "
                    "(has scheduling an API client? `telemed seed --demo` registers one)"
                )
            await asyncio.sleep(0.5)
            appointment = await self.api.json("GET", path, self.cardiologist)
        return appointment
