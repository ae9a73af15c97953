"""Value types every consult domain speaks: bounded texts, specialties, ICD-10 codes, the patient
and their vital signs."""

import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Protocol

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

from services.common.db import utcnow


class Urgency(StrEnum):
    EMERGENCY = "emergency"
    URGENT = "urgent"
    PLANNED = "planned"


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"
    UNKNOWN = "unknown"


# WHO ICD-10: a letter, two digits, optionally a dot and one or two digits (I21.4, J18.9, E11.65).
ICD10_PATTERN = r"^[A-Z][0-9]{2}(\.[0-9]{1,2})?$"
MAX_TEXT = 20_000
# A region's code as the directory keeps it: the federal subject's number ("42", "77").
REGION_PATTERN = r"^[0-9A-Z\-]{1,8}$"


def _upper_stripped(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


def _normalise_specialty(value: str) -> str:
    # The same normalisation the gateway applies to a specialist's specialty, so they match.
    normalised = re.sub(r"\s+", "_", value.strip().lower())
    if not re.fullmatch(r"[a-z0-9_\-]{2,64}", normalised):
        raise ValueError("a specialty is 2-64 letters, digits, '_' or '-'")
    return normalised


Icd10Code = Annotated[
    str,
    BeforeValidator(_upper_stripped),
    StringConstraints(pattern=ICD10_PATTERN),
    Field(examples=["I21.4"]),
]
Specialty = Annotated[str, AfterValidator(_normalise_specialty), Field(examples=["cardiology"])]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
LongText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT)
]
OptionalLongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_TEXT)]
WorseningSign = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9_]{2,64}$"), Field(examples=["chest_pain"])
]


def _not_in_future(value: date) -> date:
    if value > utcnow().date() or value.year < 1880:
        raise ValueError("the birth date must be a past date")
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Patient(Strict):
    """The minimum a specialist needs to identify the patient; the record stays at the MIS."""

    reference: str = Field(min_length=1, max_length=128, examples=["MIS-42-000123"])
    full_name: str = Field(min_length=1, max_length=255, examples=["Petrov Ivan Sergeevich"])
    birth_date: Annotated[date, AfterValidator(_not_in_future)] = Field(examples=["1961-04-12"])
    sex: Sex = Field(examples=[Sex.MALE])
    insurance_policy: str = Field(pattern=r"^[0-9A-Za-z\- ]{1,32}$", examples=["4250000000000123"])


class VitalSigns(Strict):
    systolic_bp: int | None = Field(default=None, ge=20, le=300, examples=[150])
    diastolic_bp: int | None = Field(default=None, ge=10, le=200, examples=[95])
    heart_rate: int | None = Field(default=None, ge=10, le=300, examples=[98])
    respiratory_rate: int | None = Field(default=None, ge=2, le=80, examples=[20])
    temperature_c: float | None = Field(default=None, ge=25, le=45, examples=[36.8])
    spo2: int | None = Field(default=None, ge=30, le=100, examples=[95])


class PatientRecord(Protocol):
    """A row with the patient's identifying columns: a case, a monitoring enrolment."""

    patient_reference: str
    patient_full_name: str
    patient_birth_date: date
    patient_sex: Sex
    patient_insurance_policy: str


def set_patient(record: PatientRecord, patient: Patient) -> None:
    record.patient_reference = patient.reference
    record.patient_full_name = patient.full_name
    record.patient_birth_date = patient.birth_date
    record.patient_sex = patient.sex
    record.patient_insurance_policy = patient.insurance_policy


def patient_of(record: PatientRecord) -> Patient:
    return Patient(
        reference=record.patient_reference,
        full_name=record.patient_full_name,
        birth_date=record.patient_birth_date,
        sex=record.patient_sex,
        insurance_policy=record.patient_insurance_policy,
    )
