"""Pydantic shapes of the scheduling API: schedules, availability, appointments, episodes."""

import re
import uuid
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from services.common.times import AwareInstant
from services.scheduling.enums import (
    AppointmentStatus,
    EpisodeStatus,
    ExceptionKind,
    Ineligibility,
    RoomState,
    ScheduleKind,
    VisitType,
)

MAX_EXCEPTION_DAYS = 366
CLOCK = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
CLOCK_OR_MIDNIGHT = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"


def known_zone(value: str) -> str:
    """An IANA zone name zoneinfo knows; fixed offsets are refused, they ignore DST."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {value!r}") from exc
    return value


def normalise_specialty(value: str) -> str:
    # The same normalisation the gateway applies to a specialist's specialty, so they match.
    normalised = re.sub(r"\s+", "_", value.strip().lower())
    if not re.fullmatch(r"[a-z0-9_\-]{2,64}", normalised):
        raise ValueError("a specialty is 2-64 letters, digits, '_' or '-'")
    return normalised


def minutes(clock: str) -> int:
    hours, mins = clock.split(":")
    return int(hours) * 60 + int(mins)


TimeZoneName = Annotated[
    str, StringConstraints(max_length=64), AfterValidator(known_zone), Field(examples=["Asia/Omsk"])
]
Specialty = Annotated[str, AfterValidator(normalise_specialty), Field(examples=["cardiology"])]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WorkingHours(Strict):
    """One working interval of one weekday (Monday is 0), in the schedule's local time."""

    weekday: int = Field(ge=0, le=6, examples=[0])
    start: str = Field(pattern=CLOCK, examples=["09:00"])
    end: str = Field(pattern=CLOCK_OR_MIDNIGHT, examples=["17:00"], description="`24:00` ends "
                     "at midnight.")  # fmt: skip

    @model_validator(mode="after")
    def _start_before_end(self) -> "WorkingHours":
        if minutes(self.start) >= minutes(self.end):
            raise ValueError("start must be before end")
        return self


class VisitTypeConfig(Strict):
    type: VisitType
    duration_minutes: int = Field(ge=5, le=8 * 60, examples=[30])
    buffer_before_minutes: int = Field(default=0, ge=0, le=120, examples=[0])
    buffer_after_minutes: int = Field(default=0, ge=0, le=120, examples=[10])


def default_visit_types() -> list[VisitTypeConfig]:
    """A regional centre's usual lengths: a first visit takes longer than a video follow-up."""
    return [
        VisitTypeConfig(type=VisitType.IN_PERSON, duration_minutes=30, buffer_after_minutes=10),
        VisitTypeConfig(
            type=VisitType.REMOTE,
            duration_minutes=20,
            buffer_before_minutes=5,
            buffer_after_minutes=5,
        ),
        VisitTypeConfig(type=VisitType.DOCTOR_TO_DOCTOR, duration_minutes=30),
        VisitTypeConfig(
            type=VisitType.CONSILIUM,
            duration_minutes=60,
            buffer_before_minutes=10,
            buffer_after_minutes=10,
        ),
    ]


class ScheduleSettingsIn(Strict):
    """What a schedule says about its bookable time; replaced as a whole on update."""

    weekly_hours: list[WorkingHours] = Field(max_length=70)
    visit_types: list[VisitTypeConfig] = Field(
        default_factory=default_visit_types, min_length=1, max_length=len(VisitType)
    )
    slot_step_minutes: int = Field(default=15, ge=5, le=240, examples=[15])
    min_notice_minutes: int = Field(default=120, ge=0, le=30 * 24 * 60, examples=[120])
    horizon_days: int = Field(default=90, ge=1, le=366, examples=[90])

    @model_validator(mode="after")
    def _consistent(self) -> "ScheduleSettingsIn":
        if len({config.type for config in self.visit_types}) != len(self.visit_types):
            raise ValueError("at most one entry per visit type")
        by_day: dict[int, list[tuple[int, int]]] = {}
        for hours in self.weekly_hours:
            by_day.setdefault(hours.weekday, []).append((minutes(hours.start), minutes(hours.end)))
        for day, spans in by_day.items():
            spans.sort()
            if any(later[0] < earlier[1] for earlier, later in pairwise(spans)):
                raise ValueError(f"working intervals of weekday {day} overlap")
        return self


class ScheduleCreate(ScheduleSettingsIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "practitioner",
                    "weekly_hours": [
                        {"weekday": 0, "start": "08:00", "end": "14:00"},
                        {"weekday": 2, "start": "08:00", "end": "14:00"},
                        {"weekday": 4, "start": "13:00", "end": "19:00"},
                    ],
                    "visit_types": [
                        {"type": "in_person", "duration_minutes": 30, "buffer_after_minutes": 10},
                        {
                            "type": "remote",
                            "duration_minutes": 20,
                            "buffer_before_minutes": 5,
                            "buffer_after_minutes": 5,
                        },
                    ],
                    "slot_step_minutes": 15,
                    "min_notice_minutes": 120,
                    "horizon_days": 60,
                }
            ]
        }
    )

    kind: ScheduleKind = Field(
        default=ScheduleKind.PRACTITIONER,
        description="A specialist creates their own schedule; coordinators create rooms'.",
    )
    name: str | None = Field(
        default=None, min_length=1, max_length=255, examples=["Telemedicine room 2"]
    )


class ScheduleUpdate(ScheduleSettingsIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Cardiologist Kuznetsova O. V., Kuzbass Cardiology Centre",
                    "weekly_hours": [
                        {"weekday": 0, "start": "08:00", "end": "14:00"},
                        {"weekday": 2, "start": "08:00", "end": "14:00"},
                        {"weekday": 4, "start": "13:00", "end": "18:00"},
                    ],
                    "visit_types": [
                        {"type": "in_person", "duration_minutes": 30, "buffer_after_minutes": 10},
                        {
                            "type": "remote",
                            "duration_minutes": 20,
                            "buffer_before_minutes": 5,
                            "buffer_after_minutes": 5,
                        },
                    ],
                    "slot_step_minutes": 15,
                    "min_notice_minutes": 120,
                    "horizon_days": 90,
                }
            ]
        }
    )

    name: str | None = Field(default=None, min_length=1, max_length=255)


class ScheduleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: ScheduleKind
    practitioner_id: uuid.UUID | None
    name: str
    organization_id: uuid.UUID
    specialty: str | None
    timezone: str = Field(description="The organisation's IANA zone the weekly hours are in.")
    weekly_hours: list[WorkingHours]
    visit_types: list[VisitTypeConfig]
    slot_step_minutes: int
    min_notice_minutes: int
    horizon_days: int
    created_at: datetime
    updated_at: datetime


class ExceptionCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "unavailable",
                    "start": "2026-05-01T00:00:00+07:00",
                    "end": "2026-05-12T00:00:00+07:00",
                    "reason": "May holidays and annual leave",
                }
            ]
        }
    )

    kind: ExceptionKind = Field(examples=[ExceptionKind.UNAVAILABLE])
    start: AwareInstant = Field(examples=["2025-05-01T00:00:00+07:00"])
    end: AwareInstant = Field(examples=["2025-05-12T00:00:00+07:00"])
    reason: Reason | None = Field(default=None, examples=["Annual leave"])

    @model_validator(mode="after")
    def _sane_span(self) -> "ExceptionCreate":
        if self.start >= self.end:
            raise ValueError("start must be before end")
        if self.end - self.start > timedelta(days=MAX_EXCEPTION_DAYS):
            raise ValueError(f"an exception spans at most {MAX_EXCEPTION_DAYS} days")
        return self


class LocalSpan(BaseModel):
    """A span in one zone's wall-clock time (ISO 8601 with that moment's offset)."""

    start: datetime
    end: datetime
    timezone: str


class ExceptionOut(BaseModel):
    id: uuid.UUID
    schedule_id: uuid.UUID
    kind: ExceptionKind
    start: datetime
    end: datetime
    local: LocalSpan
    reason: str | None


class Slot(BaseModel):
    schedule_id: uuid.UUID
    practitioner_id: uuid.UUID | None
    organization_id: uuid.UUID
    specialty: str | None
    visit_type: VisitType
    start: datetime = Field(description="UTC.")
    end: datetime = Field(description="UTC.")
    local: LocalSpan = Field(description="In the practitioner's (organisation's) zone.")
    requested: LocalSpan | None = Field(description="In the zone asked for with `tz`.")


class Availability(BaseModel):
    slots: list[Slot] = Field(description="Ordered by start, then schedule.")
    truncated: bool = Field(
        description="More free slots follow; ask again from the last start, or narrow the query."
    )


class AppointmentCreate(Strict):
    """Book a slot. Give the practitioner, or the schedule (rooms have no practitioner)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "practitioner_id": "1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b",
                    "visit_type": "remote",
                    "start": "2026-03-16T10:00:00+07:00",
                    "patient_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
                    "episode_id": "c2a7f3d8-4b6e-4f1a-9d35-8e0b7a61c4f2",
                    "patient_timezone": "Asia/Novokuznetsk",
                    "hold": False,
                }
            ]
        }
    )

    practitioner_id: uuid.UUID | None = None
    schedule_id: uuid.UUID | None = None
    visit_type: VisitType = Field(examples=[VisitType.IN_PERSON])
    start: AwareInstant = Field(examples=["2025-10-27T09:00:00+01:00"])
    patient_id: uuid.UUID | None = Field(
        default=None, description="Required for in-person and remote visits."
    )
    episode_id: uuid.UUID | None = Field(
        default=None,
        description="The care episode; a remote visit needs one whose in-person first visit "
        "was fulfilled. An in-person visit without one opens a new episode.",
    )
    consult_case_id: uuid.UUID | None = Field(
        default=None,
        description="The consultation the visit answers: the episode's own case, or one the "
        "consult service granted linking (`Telemed-Grant`).",
    )
    patient_timezone: TimeZoneName | None = Field(
        default=None, description="Defaults to the zone of the organisation booking."
    )
    hold: bool = Field(
        default=False, description="Only hold the slot (`proposed`) until it is confirmed."
    )

    @model_validator(mode="after")
    def _one_target(self) -> "AppointmentCreate":
        if (self.practitioner_id is None) == (self.schedule_id is None):
            raise ValueError("give exactly one of practitioner_id and schedule_id")
        return self


class RescheduleRequest(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "start": "2026-03-18T11:30:00+07:00",
                    "reason": "Patient asked for a later date: night shift at the mine",
                }
            ]
        }
    )

    start: AwareInstant
    practitioner_id: uuid.UUID | None = Field(
        default=None, description="Another practitioner; by default the same schedule."
    )
    schedule_id: uuid.UUID | None = None
    reason: Reason | None = Field(default=None, examples=["Patient asked for a later date"])

    @model_validator(mode="after")
    def _at_most_one_target(self) -> "RescheduleRequest":
        if self.practitioner_id is not None and self.schedule_id is not None:
            raise ValueError("give at most one of practitioner_id and schedule_id")
        return self


class CancelRequest(Strict):
    reason: Reason | None = Field(default=None, examples=["Patient admitted to hospital"])


class Room(BaseModel):
    state: RoomState
    room_id: str | None
    join_url: str | None
    join_opens_at: AwareInstant | None = Field(
        description="A remote visit's: from when its patient's join link is issued "
        "(`POST /appointments/{id}/join-link`), the service's `join_link_before` ahead of the "
        "start; earlier the route is a 409 naming this instant (`opens_at`). Null for visits "
        "the patient does not join (doctor-to-doctor, consilium).",
        examples=["2025-10-28T02:45:00Z"],
    )
    join_closes_at: AwareInstant | None = Field(
        description="A remote visit's: when the join link stops being issued, the visit's "
        "end; from then the route is a 410 (`ended_at`). The link is issued only while the "
        "visit is booked, checked in or under way. Null as `join_opens_at` is.",
        examples=["2025-10-28T03:20:00Z"],
    )


class JoinLink(BaseModel):
    """The patient's way into a remote visit; the token in it is short-lived and not stored."""

    join_url: str = Field(
        description="The patient's join page in the browser, `/join/{token}` on the gateway.",
        examples=["https://telemed.example.org/join/eyJhbGciOiJFZERTQSIsInR5cCI6ImpvaW4rand0In0"],
    )
    expires_at: datetime = Field(
        description="When the token in the link stops admitting.",
        examples=["2025-10-28T07:00:00Z"],
    )
    room_id: uuid.UUID


class AppointmentOut(BaseModel):
    id: uuid.UUID
    status: AppointmentStatus
    visit_type: VisitType
    schedule_id: uuid.UUID
    practitioner_id: uuid.UUID | None
    organization_id: uuid.UUID = Field(description="Where the visit is held.")
    specialty: str | None
    patient_id: uuid.UUID | None
    patient_name: str | None = Field(
        description="The patient's name as the directory gave it when the visit was booked "
        "(a snapshot: a later correction is not carried over), so the practitioner, whom the "
        "directory does not show another organisation's patients, knows whom they see. Null "
        "for visits booked before it was kept and for visits without a patient.",
        examples=["Сидорова Мария Петровна"],
    )
    patient_birth_date: date | None = Field(
        description="The patient's birth date, kept as `patient_name` is; null also for a "
        "patient with no registration record.",
        examples=["1956-03-14"],
    )
    requesting_organization_id: uuid.UUID = Field(description="Whose patient it is.")
    episode_id: uuid.UUID | None
    consult_case_id: uuid.UUID | None
    series_id: uuid.UUID | None
    start: datetime
    end: datetime
    local: LocalSpan = Field(description="In the practitioner's zone.")
    patient_local: LocalSpan = Field(description="In the patient's zone.")
    hold_expires_at: datetime | None
    replaces_id: uuid.UUID | None
    replaced_by_id: uuid.UUID | None
    booked_by: uuid.UUID
    cancel_reason: str | None
    room: Room | None = Field(description="The video room of a remote visit.")
    status_changed_at: datetime
    created_at: datetime


class AppointmentPage(BaseModel):
    items: list[AppointmentOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class EpisodeCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "patient_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
                    "specialty": "cardiology",
                    "practitioner_id": "1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b",
                    "patient_timezone": "Asia/Novokuznetsk",
                }
            ]
        }
    )

    patient_id: uuid.UUID
    specialty: Specialty
    practitioner_id: uuid.UUID | None = Field(
        default=None, description="The specialist; otherwise the first booking decides."
    )
    consult_case_id: uuid.UUID | None = Field(
        default=None,
        description="The consultation that led here, if any. Only with the consult "
        "service's grant for it (`Telemed-Grant`): link through "
        "`POST /api/consult/cases/{case_id}/episodes`.",
    )
    patient_timezone: TimeZoneName | None = Field(
        default=None, description="Defaults to the zone of the organisation creating it."
    )


class EpisodeOut(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    requesting_organization_id: uuid.UUID
    patient_timezone: str
    specialty: str
    practitioner_id: uuid.UUID | None
    consult_case_id: uuid.UUID | None
    status: EpisodeStatus
    first_visit_fulfilled: bool = Field(
        description="An in-person visit of this episode was fulfilled: remote follow-ups may "
        "be booked."
    )
    appointments: list[AppointmentOut]
    created_at: datetime
    closed_at: datetime | None


class SeriesRequest(Strict):
    """Several follow-ups at once, e.g. every 14 days, 6 times, at the same local time."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "visit_type": "remote",
                    "first_start": "2026-03-30T10:00:00+07:00",
                    "every_days": 14,
                    "count": 6,
                    "hold": False,
                }
            ]
        }
    )

    visit_type: VisitType = VisitType.REMOTE
    first_start: AwareInstant = Field(examples=["2025-11-03T10:00:00+07:00"])
    every_days: int = Field(ge=1, le=180, examples=[14])
    count: int = Field(ge=1, le=104, examples=[6])
    hold: bool = False


class SeriesItem(BaseModel):
    start: datetime
    outcome: Literal["booked", "conflict", "unavailable"]
    appointment: AppointmentOut | None = None
    detail: str | None = Field(default=None, description="Why this one was not booked.")


class SeriesOut(BaseModel):
    series_id: uuid.UUID
    booked: int
    items: list[SeriesItem]


class Eligibility(BaseModel):
    """Whether a patient may be followed up remotely in a specialty: the first-visit rule,
    asked before anything is booked (the consult service asks it of patients' requests)."""

    eligible: bool
    reason: Ineligibility | None = Field(description="Why not, when not eligible.")
    detail: str = Field(
        examples=["An in-person cardiology visit took place on 2025-10-21 10:00 (Asia/Omsk)."]
    )
    patient_id: uuid.UUID
    specialty: str
    episode_id: uuid.UUID | None = Field(description="The episode of the visit found, if any.")
    practitioner_id: uuid.UUID | None = Field(description="That episode's specialist.")
    organization_id: uuid.UUID | None = Field(description="Where the in-person visit was held.")
    requesting_organization_id: uuid.UUID | None = Field(
        description="Whose patient: the organisation the episode was opened by."
    )
    visit_start: datetime | None = Field(description="The in-person visit found (UTC).")
    visit_status: AppointmentStatus | None
    other_specialties: list[str] = Field(
        description="Specialties with a fulfilled in-person visit, when the one asked has none."
    )
    practitioner_away_until: datetime | None = Field(
        description="The specialist is on leave (an `unavailable` exception of their schedule) "
        "until then."
    )
    book_url: str = Field(
        description="The availability search for an in-person visit of the specialty.",
        examples=["/api/scheduling/availability?visit_type=in_person&specialty=cardiology"],
    )
