"""Pydantic shapes of the directory's patient registry and of the organisations served."""

import re
import uuid
from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from gateway.accounts.contacts import Email, Phone
from gateway.client import OrganizationKind
from gateway.directory.enums import Language, Sex
from services.common.db import utcnow

MAX_SERVED = 500
FIRST_BIRTH_DATE = date(1900, 1, 1)


def _single_spaced(value: str) -> str:
    return " ".join(value.split())


def _digits_only(value: object) -> object:
    """A policy number as printed ("1234 5678 9012 3456") is the same number."""
    return re.sub(r"[\s\-]", "", value) if isinstance(value, str) else value


def _born_by_now(value: date) -> date:
    # Compared with the date where it is latest on Earth (UTC+14), so a child born today in
    # Kamchatka is not "in the future" while it is still yesterday in UTC.
    if value > (utcnow() + timedelta(hours=14)).date():
        raise ValueError("the birth date is in the future")
    return value


FullName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=255),
    AfterValidator(_single_spaced),
    Field(examples=["Сидорова Мария Петровна"]),
]
BirthDate = Annotated[
    date,
    Field(ge=FIRST_BIRTH_DATE, examples=["1956-03-14"]),
    AfterValidator(_born_by_now),
]
PolicyNumber = Annotated[
    str,
    BeforeValidator(_digits_only),
    StringConstraints(pattern=r"^[0-9]{16}$"),
    Field(description="The unified OMS policy number: 16 digits.", examples=["4256789012345678"]),
]


class ServedUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "organization_ids": [
                        "3f1c2a9e-8d4b-4c7e-9a51-0b6f2d7e4c10",
                        "7a4d1e02-6b9c-4f3a-8e15-c2d0b9f86a47",
                    ]
                }
            ]
        },
    )

    organization_ids: list[uuid.UUID] = Field(
        max_length=MAX_SERVED,
        description="Every organisation this one serves; the set replaces the previous one.",
    )


class ActingOrganization(BaseModel):
    """An organisation the caller acts for: their own, or one theirs serves."""

    id: uuid.UUID
    name: str
    kind: OrganizationKind
    region: str
    timezone: str
    relation: Literal["own", "served"]


class PatientCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "full_name": "Сидорова Мария Петровна",
                    "birth_date": "1956-03-14",
                    "sex": "female",
                    "policy_number": "4256789012345678",
                    "phone": "+79131234567",
                    "language": "ru",
                    "organization_id": "7a4d1e02-6b9c-4f3a-8e15-c2d0b9f86a47",
                }
            ]
        },
    )

    full_name: FullName
    birth_date: BirthDate
    sex: Sex
    policy_number: PolicyNumber | None = None
    phone: Phone | None = None
    email: Email | None = None
    language: Language = Language.RU
    organization_id: uuid.UUID | None = Field(
        default=None,
        description="The patient's organisation: by default the caller's; one the caller acts "
        "for (their own or one theirs serves).",
    )
    allow_namesake: bool = Field(
        default=False,
        description="Register although a patient of the same name and birth date is on record "
        "(a 409 names them otherwise); a second policy number is never allowed.",
    )


class PatientUpdate(BaseModel):
    """The fields to change; a field left out stays as it is, `null` clears an optional one."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"phone": "+79609876543", "email": None}]},
    )

    full_name: FullName | None = None
    birth_date: BirthDate | None = None
    sex: Sex | None = None
    policy_number: PolicyNumber | None = None
    phone: Phone | None = None
    email: Email | None = None
    language: Language | None = None

    @model_validator(mode="after")
    def _required_stay_set(self) -> "PatientUpdate":
        cleared = sorted(
            name
            for name in ("full_name", "birth_date", "sex", "language")
            if name in self.model_fields_set and getattr(self, name) is None
        )
        if cleared:
            raise ValueError(f"{', '.join(cleared)} cannot be cleared")
        return self


class Patient(BaseModel):
    id: uuid.UUID
    username: str = Field(description="Generated; the patient signs in only once invited.")
    full_name: str
    organization_id: uuid.UUID | None
    birth_date: date
    sex: Sex
    policy_number: str | None
    phone: str | None
    email: str | None
    language: Language
    is_active: bool
    can_sign_in: bool = Field(description="Whether the patient has chosen a password.")
    registered_by: uuid.UUID
    registered_at: datetime


class PatientPage(BaseModel):
    items: list[Patient]
    next_offset: int | None = Field(
        description="Pass as `offset` for the next page; null on the last page."
    )


class Duplicate(BaseModel):
    """A patient on record that a new registration would duplicate, as the 409 names them."""

    id: uuid.UUID
    full_name: str
    birth_date: date
    organization_id: uuid.UUID | None
