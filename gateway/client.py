"""Typed client other services use to read the gateway's directory, with the caller's token.

It imports nothing else of the gateway (an import contract checks it), so the shapes it
returns are defined here.
"""

import time
import uuid
from collections import OrderedDict
from datetime import date
from datetime import time as clock_time
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.common.auth import Principal, Role
from services.common.client import ServiceClient
from services.common.errors import NotFound
from services.common.times import TimeOfDay

# Users looked up per caller's token (below); the oldest answers go first past this many.
MAX_CACHED_USERS = 1024


class OrganizationKind(StrEnum):
    DISTRICT_HOSPITAL = "district_hospital"
    REGIONAL_CENTRE = "regional_centre"
    POLYCLINIC = "polyclinic"
    INSURER = "insurer"
    # Serve other organisations' patients (`Organization.serves`): they register callers,
    # book their visits and file their appeals.
    CALL_CENTRE = "call_centre"
    HOTLINE = "hotline"
    OTHER = "other"


class OpeningHours(BaseModel):
    """One weekday's opening hours in the organisation's local time (Monday is 0)."""

    weekday: int = Field(ge=0, le=6)
    opens: TimeOfDay
    closes: TimeOfDay

    @model_validator(mode="after")
    def _opens_before_closes(self) -> "OpeningHours":
        if self.opens >= self.closes:
            raise ValueError("opens must be before closes")
        return self


def default_working_hours() -> list[OpeningHours]:
    """Monday to Saturday, 08:00-20:00: the hours regional medical chats and hotlines keep."""
    return [
        OpeningHours(weekday=day, opens=clock_time(8), closes=clock_time(20)) for day in range(6)
    ]


class OrganizationCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Kemerovo City Polyclinic No. 5",
                    "kind": "polyclinic",
                    "region": "42",
                    "timezone": "Asia/Novokuznetsk",
                    "working_hours": [
                        {"weekday": 0, "opens": "08:00", "closes": "20:00"},
                        {"weekday": 1, "opens": "08:00", "closes": "20:00"},
                        {"weekday": 2, "opens": "08:00", "closes": "20:00"},
                        {"weekday": 3, "opens": "08:00", "closes": "20:00"},
                        {"weekday": 4, "opens": "08:00", "closes": "20:00"},
                        {"weekday": 5, "opens": "09:00", "closes": "14:00"},
                    ],
                }
            ]
        }
    )

    name: str = Field(min_length=2, max_length=255, examples=["Kemerovo Regional Hospital"])
    kind: OrganizationKind = Field(examples=[OrganizationKind.REGIONAL_CENTRE])
    region: str = Field(pattern=r"^[0-9A-Z\-]{1,8}$", examples=["42"])
    timezone: str = Field(examples=["Asia/Novokuznetsk"])
    working_hours: list[OpeningHours] = Field(default_factory=default_working_hours)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @field_validator("working_hours")
    @classmethod
    def _one_entry_per_day(cls, value: list[OpeningHours]) -> list[OpeningHours]:
        if len({entry.weekday for entry in value}) != len(value):
            raise ValueError("at most one entry per weekday")
        return sorted(value, key=lambda entry: entry.weekday)


class Organization(OrganizationCreate):
    # The example of the body it was made from would lack the `id`.
    model_config = ConfigDict(from_attributes=True, json_schema_extra=None)

    id: uuid.UUID
    serves: list[uuid.UUID] = Field(
        default_factory=list,
        description="The organisations this one serves (a call centre's): its staff act for "
        "their patients as for their own. Set with `PUT /api/directory/organizations/{id}/served`.",
    )


class DirectoryUser(BaseModel):
    """A user as the directory shows them to the caller: enough to check whom a request names
    (a visit's patient, a room's host) before anything is stored."""

    id: uuid.UUID
    username: str
    full_name: str
    role: Role
    organization_id: uuid.UUID | None
    region: str | None = None
    specialty: str | None = None
    is_active: bool
    # A registered patient's, which the directory shows staff (the booking keeps it with the
    # visit, so the specialist, whom the directory does not show the patient, knows whom
    # they see).
    birth_date: date | None = None


class DirectoryClient(ServiceClient):
    """Reads organisations and users from the gateway; they change rarely, so answers are
    cached briefly."""

    def __init__(self, client: httpx.AsyncClient, cache_seconds: float = 60.0) -> None:
        super().__init__(client, "/api/directory", "directory")
        self._cache_seconds = cache_seconds
        self._organizations: dict[uuid.UUID, tuple[float, Organization]] = {}
        self._users: OrderedDict[tuple[str, uuid.UUID], tuple[float, DirectoryUser]] = OrderedDict()

    async def get_organization(self, organization_id: uuid.UUID, bearer: str) -> Organization:
        cached = self._organizations.get(organization_id)
        if cached and time.monotonic() - cached[0] < self._cache_seconds:
            return cached[1]
        body = await self.call("GET", f"/organizations/{organization_id}", bearer, ok=(200,))
        organization = Organization.model_validate(body)
        self._organizations[organization_id] = (time.monotonic(), organization)
        return organization

    async def acting(self, principal: Principal, bearer: str) -> Principal:
        """The caller with the organisations theirs serves (`Principal.serves`), read from its
        organisation's view, so one cached answer serves every caller of the organisation."""
        if principal.organization_id is None:
            return principal
        organization = await self.get_organization(principal.organization_id, bearer)
        return principal.model_copy(update={"serves": frozenset(organization.serves)})

    async def get_user(self, user_id: uuid.UUID, bearer: str) -> DirectoryUser | None:
        """The user if the directory shows them to the caller (`GET /users/{id}` applies its
        visibility rules), else None. Found users are cached per caller's token, as what one
        caller may see says nothing of another; an unknown id is asked again every time."""
        key = (bearer, user_id)
        cached = self._users.get(key)
        if cached and time.monotonic() - cached[0] < self._cache_seconds:
            return cached[1]
        try:
            body = await self.call("GET", f"/users/{user_id}", bearer, ok=(200,))
        except NotFound:
            return None
        user = DirectoryUser.model_validate(body)
        self._users[key] = (time.monotonic(), user)
        self._users.move_to_end(key)
        while len(self._users) > MAX_CACHED_USERS:
            self._users.popitem(last=False)
        return user
