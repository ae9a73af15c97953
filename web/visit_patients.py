"""Whom a practitioner sees at a visit: the patient's name and birth date as scheduling kept
them at booking (the directory does not show a specialist another organisation's patients),
the directory's name for a visit booked before scheduling kept one, and the age on the day."""

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class VisitPatient:
    name: str
    born: date | None = None
    age: int | None = None  # in full years on the visit's day


def age_on(born: date, day: date) -> int:
    """Full years on `day`: a birthday not yet reached that year does not count."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def visit_patient(
    kept_name: str | None, born: date | None, directory_name: str | None, day: date
) -> VisitPatient | None:
    """None when neither the visit nor the directory names the patient (the page then says
    "Patient")."""
    name = kept_name or directory_name
    if name is None:
        return None
    if born is None:
        return VisitPatient(name)
    return VisitPatient(name, born, age_on(born, day))
