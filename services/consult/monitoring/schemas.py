"""Pydantic shapes of patient monitoring: enrolment, check-ins, due lists, tasks, discharge."""

import uuid
from datetime import date, datetime
from typing import Annotated
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
from services.consult.monitoring.enums import (
    DischargeReason,
    EnrolmentStatus,
    EscalationKind,
    TaskStatus,
    Wellbeing,
)
from services.consult.monitoring.thresholds import Key, Programme
from services.consult.values import (
    LongText,
    OptionalLongText,
    Patient,
    ShortText,
    Strict,
    Urgency,
    VitalSigns,
)

Phone = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 ()\-]{4,30}$"),
    Field(examples=["+7 913 555-01-23"]),
]


def _known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {value!r}") from exc
    return value


Zone = Annotated[str, StringConstraints(max_length=64), AfterValidator(_known_zone)]


class EnrolmentCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "programme": "pregnancy_high_risk",
                    "patient": {
                        "reference": "MIS-42-004517",
                        "full_name": "Ivanova Anna Pavlovna",
                        "birth_date": "1993-07-21",
                        "sex": "female",
                        "insurance_policy": "4250000000004517",
                    },
                    "patient_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
                    "contact_phone": "+7 913 555-01-23",
                    "patient_timezone": "Asia/Novokuznetsk",
                    "indication": "Week 32, chronic hypertension, past pre-eclampsia.",
                    "interval_hours": 24,
                    "first_check_in_due_at": "2025-10-29T10:00:00+07:00",
                    "operator_id": "a8098c1a-f86e-11da-bd1a-00112444be1e",
                }
            ]
        }
    )

    programme: Key = Field(examples=["pregnancy_high_risk"])
    patient: Patient
    patient_id: uuid.UUID | None = Field(
        default=None,
        description="The patient's own account, if any: they then see the monitoring and may "
        "check in themselves.",
    )
    contact_phone: Phone
    patient_timezone: Zone | None = Field(
        default=None,
        description="The IANA zone the patient lives in, when not the organisation's: the "
        "day their check-ins are due on.",
        examples=["Asia/Novokuznetsk"],
    )
    indication: LongText = Field(examples=["Week 32, chronic hypertension, past pre-eclampsia."])
    interval_hours: int | None = Field(
        default=None, ge=1, le=168, description="Between check-ins; the programme's by default."
    )
    first_check_in_due_at: AwareInstant | None = Field(
        default=None, description="One interval from now by default."
    )
    operator_id: uuid.UUID | None = Field(
        default=None,
        description="The operator who makes the calls; the enrolling coordinator by default.",
    )


class CheckInVitals(VitalSigns):
    """Vital signs in the units their names say (mmHg, beats and breaths a minute, °C, %)."""

    @model_validator(mode="after")
    def _pressure_in_order(self) -> "CheckInVitals":
        if (
            self.systolic_bp is not None
            and self.diastolic_bp is not None
            and self.diastolic_bp >= self.systolic_bp
        ):
            raise ValueError("the diastolic pressure must be below the systolic")
        return self


class CheckInCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "vital_signs": {"systolic_bp": 146, "diastolic_bp": 94, "heart_rate": 88},
                    "symptoms": ["severe_headache"],
                    "wellbeing": "worse",
                    "note": "Took labetalol 200 mg in the morning.",
                }
            ]
        }
    )

    vital_signs: CheckInVitals = Field(default_factory=CheckInVitals)
    symptoms: list[Key] = Field(
        default_factory=list,
        max_length=30,
        description="Of the programme's symptoms (`GET /monitoring/programmes`), those present.",
        examples=[["severe_headache"]],
    )
    wellbeing: Wellbeing = Field(examples=[Wellbeing.SAME])
    note: OptionalLongText = Field(default="", examples=["Took labetalol in the morning."])


class DischargeRequest(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reason": "delivered", "note": "Delivered at 38 weeks, both well."}]
        }
    )

    reason: DischargeReason = Field(examples=[DischargeReason.DELIVERED])
    note: ShortText | None = Field(default=None, examples=["Delivered at 38 weeks, both well."])


class TaskComplete(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"outcome": "Ambulance took her to the perinatal centre at 14:10."}]
        }
    )

    outcome: ShortText = Field(examples=["Ambulance took her to the perinatal centre at 14:10."])


class ProgrammeOut(Programme):
    key: str


class EnrolmentOut(BaseModel):
    id: uuid.UUID
    programme: str
    status: EnrolmentStatus
    organization_id: uuid.UUID = Field(description="The organisation responsible.")
    patient_id: uuid.UUID | None
    patient: Patient
    contact_phone: str
    patient_timezone: str | None = Field(description="Null: the organisation's zone.")
    indication: str
    interval_hours: int
    operator_id: uuid.UUID | None
    enrolled_by: uuid.UUID
    enrolled_at: datetime
    next_due_at: datetime
    overdue: bool = Field(description="Active, and its check-in is past due.")
    last_check_in_at: datetime | None
    discharged_at: datetime | None
    discharged_by: uuid.UUID | None
    discharge_reason: DischargeReason | None
    discharge_note: str | None


class CheckInOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    enrolment_id: uuid.UUID
    checked_at: datetime
    recorded_by: uuid.UUID
    recorder_role: str
    vital_signs: VitalSigns
    symptoms: list[str]
    wellbeing: Wellbeing
    note: str
    escalation: EscalationKind | None = Field(description="What the thresholds arranged.")
    fired_rules: list[str]
    task_id: uuid.UUID | None = Field(
        description="The task created, or the open one as severe that already covered it."
    )


class TaskOut(BaseModel):
    id: uuid.UUID
    enrolment_id: uuid.UUID
    check_in_id: uuid.UUID
    organization_id: uuid.UUID
    kind: EscalationKind
    urgency: Urgency = Field(description="Emergency for an ambulance, urgent for a home visit.")
    status: TaskStatus
    reasons: list[str] = Field(description="The thresholds the check-in crossed.")
    created_at: datetime
    completed_at: datetime | None
    completed_by: uuid.UUID | None
    outcome: str | None
    programme: str
    patient_full_name: str
    contact_phone: str


class DueCheckIn(BaseModel):
    enrolment_id: uuid.UUID
    programme: str
    patient_full_name: str
    contact_phone: str
    operator_id: uuid.UUID | None
    due_at: datetime
    overdue: bool
    timezone: str = Field(
        examples=["Asia/Novokuznetsk"], description="The patient's zone (else the organisation's)."
    )
    day: date = Field(description="Today in the patient's zone: the check-in is due by its end.")


class DueList(BaseModel):
    organization_id: uuid.UUID
    timezone: str = Field(examples=["Asia/Novokuznetsk"], description="The organisation's zone.")
    day: date = Field(description="Today in the organisation's time zone.")
    items: list[DueCheckIn] = Field(
        description="Due by the end of today in each patient's own zone, overdue first."
    )
