"""Pydantic shapes of home visits: the catchment, the preview, the call and its steps, and
the figures per polyclinic."""

import uuid
from datetime import date, datetime, time
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.consult.home_visits.enums import CancelReason, HomeVisitStatus
from services.consult.values import REGION_PATTERN, LongText, Strict, Urgency

Region = Annotated[str, StringConstraints(pattern=REGION_PATTERN), Field(examples=["42"])]
TerritoryCode = Annotated[
    str, StringConstraints(pattern=r"^[\w\-]{1,32}$"), Field(examples=["32628000"])
]
Place = Annotated[str, StringConstraints(strip_whitespace=True, max_length=128)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=255)]
Phone = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 ()\-]{4,30}$"),
    Field(examples=["+7 913 555-01-23"]),
]
Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class CatchmentIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "region": "42",
                    "territory": "32701000",
                    "settlement": "Кемерово",
                    "street": "проспект Ленина",
                    "organization_id": "3f1c2a9e-8d4b-4c7e-9a51-0b6f2d7e4c10",
                }
            ]
        }
    )

    region: Region
    territory: TerritoryCode
    settlement: Place = Field(
        default="", description="Narrows the line to one settlement; empty for the territory."
    )
    street: Place = Field(
        default="", description="Narrows it to one street of the settlement; empty for all."
    )
    organization_id: uuid.UUID = Field(description="The polyclinic serving these addresses.")


class CatchmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    region: str
    territory_code: str
    settlement: str
    street: str
    organization_id: uuid.UUID


class Window(BaseModel):
    """The day and hours to read out to the caller, in the polyclinic's zone."""

    visit_day: date
    timezone: str = Field(examples=["Asia/Novokuznetsk"])
    window_starts_at: datetime
    window_ends_at: datetime
    window_opens: time = Field(description="Local: the hours to read out.")
    window_closes: time


class HomeVisitPreview(BaseModel):
    """What filing the call now would do; `organization_id` null when no line serves it."""

    organization_id: uuid.UUID | None
    organization_name: str | None
    catchment_id: uuid.UUID | None
    window: Window | None


class HomeVisitCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "region": "42",
                    "territory": "32701000",
                    "settlement": "Кемерово",
                    "street": "проспект Ленина",
                    "address": "проспект Ленина, 59, кв. 14, подъезд 2, этаж 5",
                    "caller_name": "Kuznetsova Olga Viktorovna",
                    "patient_name": "Kuznetsov Viktor Ivanovich",
                    "phone": "+7 913 555-01-23",
                    "reason": "Blood draw at home: bedridden after a stroke.",
                    "urgency": "planned",
                    "patient_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
                }
            ]
        }
    )

    region: Region | None = Field(default=None, description="The caller's; yours by default.")
    territory: TerritoryCode
    settlement: Place = ""
    street: Place = ""
    address: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
    caller_name: Name
    patient_name: Name | None = Field(
        default=None, description="Whom the visit is for, when not the caller."
    )
    phone: Phone
    reason: LongText = Field(examples=["Blood draw at home: bedridden after a stroke."])
    urgency: Literal[Urgency.URGENT, Urgency.PLANNED] = Field(
        default=Urgency.PLANNED,
        description="An emergency is the ambulance's (103), not a home visit.",
    )
    patient_id: uuid.UUID | None = Field(
        default=None, description="The registered patient, checked against the directory."
    )
    appeal_id: uuid.UUID | None = Field(default=None, description="The appeal it came with.")


class HomeVisitOut(BaseModel):
    id: uuid.UUID
    status: HomeVisitStatus
    organization_id: uuid.UUID
    region: str
    territory_code: str
    settlement: str
    street: str
    address: str
    caller_name: str
    patient_name: str
    phone: str
    reason: str
    urgency: Urgency
    patient_id: uuid.UUID | None
    appeal_id: uuid.UUID | None
    window: Window
    received_at: datetime
    created_by: uuid.UUID
    assignee_id: uuid.UUID | None
    assignee_name: str | None
    assigned_at: datetime | None
    done_at: datetime | None
    done_note: str | None
    cancelled_at: datetime | None
    cancel_reason: CancelReason | None
    cancel_note: str | None


class HomeVisitList(BaseModel):
    organization_id: uuid.UUID
    visit_day: date
    items: list[HomeVisitOut]


class AssignRequest(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"assignee_id": "1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b"}]}
    )

    assignee_id: uuid.UUID = Field(description="A doctor or nurse of the polyclinic.")


class CompleteRequest(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"note": "Blood drawn, samples taken to the laboratory by 14:00."}]
        }
    )

    note: Note = Field(examples=["Blood drawn, samples taken to the laboratory by 14:00."])


class CancelRequest(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"reason": "ambulance_called", "note": "Chest pain before the visit; 103 called."}
            ]
        }
    )

    reason: CancelReason
    note: Note | None = None


class DayFigures(BaseModel):
    day: date = Field(description="The polyclinic's local day the visits were on.")
    requests: int
    done: int
    cancelled: int
    cancelled_by_reason: dict[CancelReason, int]
    done_same_day: int = Field(description="Done on the local day the call was received.")
    median_minutes_to_done: float | None


class HomeVisitFigures(BaseModel):
    organization_id: uuid.UUID
    timezone: str
    days: list[DayFigures]
    total: DayFigures = Field(description="Over the range; `day` is its first.")
