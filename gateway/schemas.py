"""Pydantic shapes of the gateway's identity and directory API.

Organisation shapes live in `gateway.client`, because other services read them through it.
"""

import re
import uuid

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gateway.client import (
    OpeningHours,
    Organization,
    OrganizationCreate,
    OrganizationKind,
    default_working_hours,
)
from services.common.auth import Role
from services.common.outbox import RELAY_SCOPE

__all__ = [
    "OpeningHours",
    "Organization",
    "OrganizationCreate",
    "OrganizationKind",
    "default_working_hours",
]

USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._\-]{2,63}$"


class UserCreate(BaseModel):
    username: str = Field(pattern=USERNAME_PATTERN, examples=["ivanova.surgeon"])
    password: str = Field(min_length=10, max_length=256)
    full_name: str = Field(min_length=1, max_length=255, examples=["Anna Ivanova"])
    role: Role
    organization_id: uuid.UUID | None = None
    specialty: str | None = Field(default=None, max_length=64, examples=["cardiology"])

    @field_validator("specialty")
    @classmethod
    def _normalise_specialty(cls, value: str | None) -> str | None:
        return re.sub(r"\s+", "_", value.strip().lower()) if value else None

    @model_validator(mode="after")
    def _role_fits(self) -> "UserCreate":
        if self.role == Role.API_CLIENT:
            raise ValueError("API clients are registered under /api/directory/api-clients")
        if self.role == Role.SPECIALIST and not self.specialty:
            raise ValueError("a specialist needs a specialty")
        if self.role != Role.SPECIALIST and self.specialty:
            raise ValueError("only specialists have a specialty")
        staff = {Role.DISTRICT_MEDIC, Role.SPECIALIST, Role.COORDINATOR}
        if self.role in staff and self.organization_id is None:
            raise ValueError(f"a {self.role.value} belongs to an organisation")
        return self


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


class ApiClientCreate(BaseModel):
    name: str = Field(min_length=2, max_length=255, examples=["Kuzbass regional MIS"])
    organization_id: uuid.UUID
    scopes: list[str] = Field(examples=[["consult:read", "consult:write"]])

    @field_validator("scopes")
    @classmethod
    def _not_the_relay_scope(cls, value: list[str]) -> list[str]:
        # The services' outbox feeds trust this scope: only the gateway's own relay has it.
        if RELAY_SCOPE in value:
            raise ValueError(f"the {RELAY_SCOPE} scope is the gateway's own, not an API client's")
        return value


class ApiClient(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    client_id: str
    name: str
    organization_id: uuid.UUID
    scopes: list[str]
    is_active: bool


class ApiClientCreated(ApiClient):
    client_secret: str = Field(description="Shown once; only its hash is stored.")


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    refresh_token: str | None = None
    scope: str = ""
