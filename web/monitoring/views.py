"""How the monitoring screens present consult's answers: each recorded value against the
programme's thresholds (out of range said in words, not colour alone), the refusals beside
the fields they are about, and the templates' labels."""

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from web.cases.forms import PATIENT
from web.monitoring.labels import LABELS, VITALS
from web.monitoring.schemas import CheckIn, Programme, Rule
from web.templating import render_page

ENROL_FIELDS = (
    *(f"patient_{name}" for name in PATIENT),
    "patient_id",
    "programme",
    "contact_phone",
    "patient_timezone",
    "indication",
    "interval_hours",
)
CHECK_IN_FIELDS = (*VITALS, "wellbeing", "note")


@dataclass(frozen=True)
class Bound:
    """One threshold of a vital sign: "≥ 140" or "< 94", what crossing it arranges, and over
    how many consecutive days it must hold."""

    text: str
    escalation: str
    days: int

    @classmethod
    def of(cls, rule: Rule) -> "Bound":
        text = f"≥ {rule.at_least:g}" if rule.at_least is not None else f"< {rule.below:g}"
        return cls(text, rule.escalation, rule.days)


@dataclass(frozen=True)
class Reading:
    """A recorded vital sign: its value, the programme's bounds, those the value crosses."""

    name: str
    value: float | None
    bounds: list[Bound]
    crossed: list[Bound]


def crosses(rule: Rule, value: float) -> bool:
    if rule.at_least is not None:
        return value >= rule.at_least
    return rule.below is not None and value < rule.below


def readings(check_in: CheckIn, programme: Programme | None) -> list[Reading]:
    """Each vital sign the check-in recorded, or the programme watches, against its bounds."""
    rules = programme.rules if programme else []
    shown = []
    for name in VITALS:
        value = check_in.vital_signs.get(name)
        watching = [rule for rule in rules if rule.vital == name]
        if value is None and not watching:
            continue
        crossed = [
            Bound.of(rule) for rule in watching if value is not None and crosses(rule, value)
        ]
        shown.append(Reading(name, value, [Bound.of(rule) for rule in watching], crossed))
    return shown


def alarming_symptoms(programme: Programme | None) -> set[str]:
    """The symptoms some rule of the programme escalates on."""
    return (
        {symptom for rule in programme.rules for symptom in rule.symptoms} if programme else set()
    )


def thresholds(programme: Programme) -> dict[str, list[Bound]]:
    """The programme's vital-sign bounds, for the check-in form's hints."""
    bounds: dict[str, list[Bound]] = {}
    for rule in programme.rules:
        if rule.vital is not None:
            bounds.setdefault(rule.vital, []).append(Bound.of(rule))
    return bounds


def enrol_field(location: tuple[str | int, ...]) -> str | None:
    """The enrolment form's field an API error location is about."""
    if location[:1] == ("patient",) and len(location) > 1:
        return f"patient_{location[1]}"
    name = str(location[0]) if location else ""
    return name if name in ENROL_FIELDS else None


def check_in_field(location: tuple[str | int, ...]) -> str | None:
    """The check-in form's field: a vital sign, or the pressures out of order (said by the
    diastolic)."""
    if location[:1] == ("vital_signs",):
        return str(location[1]) if len(location) > 1 else "diastolic_bp"
    name = str(location[0]) if location else ""
    return name if name in (*CHECK_IN_FIELDS, "symptoms") else None


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    block: str | None = None,
) -> HTMLResponse:
    """A monitoring template, with the words for consult's codes (`labels.LABELS`)."""
    return render_page(request, name, {**LABELS, **context}, status=status, block=block)
