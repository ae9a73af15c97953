"""Pydantic shapes of the gateway's identity and directory API.

Organisation shapes live in `gateway.client`, because other services read them through it.
"""

import re
import uuid
from datetime import date

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from gateway.accounts.contacts import Email, Language, Phone
from gateway.client import (
    OpeningHours,
    Organization,
    OrganizationCreate,
    OrganizationKind,
    default_working_hours,
)
from gateway.scopes import check_scopes
from services.common.auth import Role

__all__ = [
    "OpeningHours",
    "Organization",
    "OrganizationCreate",
    "OrganizationKind",
    "default_working_hours",
]

USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._\-]{2,63}$"


class UserCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "username": "belova.cardiology",
                    "full_name": "Белова Елена Викторовна",
                    "role": "specialist",
                    "organization_id": "3f1c2a9e-8d4b-4c7e-9a51-0b6f2d7e4c10",
                    "specialty": "cardiology",
                    "email": "e.belova@okb.kuzbass.example",
                    "phone": "+79059123456",
                    "language": "ru",
                }
            ]
        }
    )

    username: str = Field(pattern=USERNAME_PATTERN, examples=["ivanova.surgeon"])
    password: str | None = Field(
        default=None,
        min_length=10,
        max_length=256,
        description="Left out, the person has none until they choose one by the invitation "
        "`POST /api/directory/users/{id}/invite` sends them.",
    )
    full_name: str = Field(min_length=1, max_length=255, examples=["Anna Ivanova"])
    role: Role
    organization_id: uuid.UUID | None = None
    specialty: str | None = Field(default=None, max_length=64, examples=["cardiology"])
    email: Email | None = None
    phone: Phone | None = None
    language: Language = "ru"

    @field_validator("specialty")
    @classmethod
    def _normalise_specialty(cls, value: str | None) -> str | None:
        return normal_specialty(value)

    @model_validator(mode="after")
    def _role_fits(self) -> "UserCreate":
        check_role_fits(self.role, self.organization_id, self.specialty)
        return self


def normal_specialty(value: str | None) -> str | None:
    return re.sub(r"\s+", "_", value.strip().lower()) if value else None


def check_role_fits(role: Role, organization_id: uuid.UUID | None, specialty: str | None) -> None:
    """Raises ValueError naming what a user of `role` lacks or must not have; creating a user
    and changing one (`PATCH /api/directory/users/{id}`) hold to the same rules."""
    if role == Role.API_CLIENT:
        raise ValueError("API clients are registered under /api/directory/api-clients")
    if role == Role.SPECIALIST and not specialty:
        raise ValueError("a specialist needs a specialty")
    if role != Role.SPECIALIST and specialty:
        raise ValueError("only specialists have a specialty")
    staff = {Role.DISTRICT_MEDIC, Role.SPECIALIST, Role.COORDINATOR, Role.REGISTRAR}
    if role in staff and organization_id is None:
        raise ValueError(f"a {role.value} belongs to an organisation")


class User(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    username: str
    full_name: str
    role: Role
    organization_id: uuid.UUID | None
    region: str | None = None
    specialty: str | None
    is_active: bool
    # A registered patient's, shown to staff who see them (`GET /api/directory/users/{id}`).
    birth_date: date | None = None
    sex: str | None = None


class ApiClientUpdate(BaseModel):
    """What an administrator sets on an API client; scopes come from the allow-list in
    `gateway/scopes.py`, each one token."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"name": "Kuzbass regional MIS", "scopes": ["consult:read", "consult:write"]}
            ]
        }
    )

    name: str = Field(min_length=2, max_length=255, examples=["Kuzbass regional MIS"])
    is_service: bool = Field(
        default=False,
        description="A service client (the scheduling service's own), which alone may hold "
        "`video:rooms`.",
    )
    scopes: list[str] = Field(max_length=16, examples=[["consult:read", "consult:write"]])

    @field_validator("scopes")
    @classmethod
    def _allowed(cls, value: list[str], info: ValidationInfo) -> list[str]:
        return check_scopes(value, bool(info.data.get("is_service")))


class ApiClientCreate(ApiClientUpdate):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Kuzbass regional MIS",
                    "organization_id": "3f1c2a9e-8d4b-4c7e-9a51-0b6f2d7e4c10",
                    "scopes": ["consult:read", "consult:write", "files:write", "webhooks:manage"],
                }
            ]
        }
    )

    organization_id: uuid.UUID


class ApiClient(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    client_id: str
    name: str
    organization_id: uuid.UUID
    scopes: list[str]
    is_service: bool
    is_active: bool


class ApiClientCreated(ApiClient):
    client_secret: str = Field(description="Shown once; only its hash is stored.")


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    refresh_token: str | None = None
    scope: str = ""
