"""Pydantic shapes of the account API: passwords, password links, sign-ins, and a person's
account as they and administrators see it."""

import uuid
from datetime import datetime
from typing import ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gateway.accounts.contacts import Email, Language, Phone
from gateway.notify.enums import Channel
from gateway.schemas import User, normal_specialty
from services.common.auth import Role

# Bounded so a request cannot make the server hash or score megabytes; the rules
# (passwords.py) say what is too short, with their own reasons.
Secret = Field(min_length=1, max_length=256)


class PasswordChange(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"current_password": "Kemerovo-2024!spring", "new_password": "plum orbit candle 47"}
            ]
        },
    )

    current_password: str = Secret
    new_password: str = Field(min_length=1, max_length=256, examples=["plum orbit candle 47"])


class PasswordResetRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"username_or_email": "ivanova.surgeon"}]}
    )

    username_or_email: str = Field(
        min_length=1, max_length=320, examples=["ivanova.surgeon", "a.ivanova@hospital.example"]
    )


class PasswordResetComplete(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "token": "Xk4mR9vB2qL7tN1wZ8cH5yF3jD6pS0aE",
                    "new_password": "taiga river lantern 82",
                }
            ]
        },
    )

    token: str = Field(
        min_length=1, max_length=128, description="The `token` of the link the person received."
    )
    new_password: str = Secret


class PasswordSet(BaseModel):
    username: str = Field(description="Whose password the link set: they sign in with it.")


class LinkSent(BaseModel):
    """A one-time link is on its way; the link itself is never in a response."""

    channels: list[Channel] = Field(description="Where the message goes.")
    expires_at: datetime


class SignInView(BaseModel):
    """One of a person's sign-ins (a refresh-token family)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    created_at: datetime
    last_used_at: datetime
    address: str
    user_agent: str
    client_name: str | None = Field(description="The application, for a standard sign-in.")
    current: bool = Field(default=False, description="The sign-in this request's token is of.")


class Account(User):
    """A user with what only they and administrators see: contacts and password status."""

    email: str | None
    phone: str | None
    language: Language
    can_sign_in: bool = Field(description="Whether the person has a password.")
    password_changed_at: datetime | None


class ProfileUpdate(BaseModel):
    """What a person changes about themselves; a field left out stays, `null` clears a
    contact."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"full_name": "Иванова Анна Сергеевна", "phone": "+79131234567"}]
        },
    )
    required: ClassVar[tuple[str, ...]] = ("full_name", "language")

    full_name: str | None = Field(default=None, min_length=1, max_length=255)
    email: Email | None = None
    phone: Phone | None = None
    language: Language | None = None

    @model_validator(mode="after")
    def _required_stay_set(self) -> Self:
        cleared = [
            name
            for name in self.required
            if name in self.model_fields_set and getattr(self, name) is None
        ]
        if cleared:
            raise ValueError(f"{', '.join(cleared)} cannot be cleared")
        return self


class UserUpdate(ProfileUpdate):
    """What an administrator changes about a user, within the rules of creating one."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "role": "specialist",
                    "organization_id": "3f1c2a9e-8d4b-4c7e-9a51-0b6f2d7e4c10",
                    "specialty": "cardiology",
                }
            ]
        }
    )
    required: ClassVar[tuple[str, ...]] = ("full_name", "language", "role")

    role: Role | None = None
    organization_id: uuid.UUID | None = None
    specialty: str | None = Field(default=None, max_length=64, examples=["cardiology"])

    @field_validator("specialty")
    @classmethod
    def _normalise_specialty(cls, value: str | None) -> str | None:
        return normal_specialty(value)


class Unlocked(BaseModel):
    failures_cleared: int = Field(description="Failed sign-ins no longer counted.")
