"""Monitoring programmes and the thresholds that escalate a check-in, and the check itself.

A programme names the symptoms a check-in asks about and its rules. A rule fires on a vital
sign at or above (or below) a bound, sustained over consecutive days in the responsible
organisation's time zone, and/or on symptoms reported together; each rule says what it
arranges, a doctor's home visit or an ambulance. The defaults below follow published criteria
and are configuration (`TELEMED_CONSULT_MONITORING_PROGRAMMES`), not law: a region replaces
them with its own protocols.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from services.consult.monitoring.enums import EscalationKind

VitalName = Literal[
    "systolic_bp", "diastolic_bp", "heart_rate", "respiratory_rate", "temperature_c", "spo2"
]
Key = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{2,64}$")]
AMBULANCE, HOME_VISIT = EscalationKind.AMBULANCE, EscalationKind.HOME_VISIT


class Rule(BaseModel):
    """Fires when every condition it names holds: the vital bound (on each of `days`
    consecutive local days, today's check-in included) and all its symptoms at once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Key
    escalation: EscalationKind
    vital: VitalName | None = None
    at_least: float | None = None
    below: float | None = None
    days: int = Field(default=1, ge=1, le=14)
    symptoms: frozenset[Key] = frozenset()

    @model_validator(mode="after")
    def _conditions(self) -> "Rule":
        bounds = (self.at_least is not None) + (self.below is not None)
        if self.vital is not None and bounds != 1:
            raise ValueError("a vital sign needs one bound: `at_least` or `below`")
        if self.vital is None and (bounds or self.days > 1 or not self.symptoms):
            raise ValueError("a rule names a vital sign with its bound, or symptoms")
        return self


class Programme(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    interval_hours: int = Field(default=24, ge=1, le=168, description="Between check-ins.")
    symptoms: frozenset[Key] = Field(description="The yes/no questions of a check-in.")
    rules: tuple[Rule, ...]

    @model_validator(mode="after")
    def _rules_ask_known_symptoms(self) -> "Programme":
        for rule in self.rules:
            if not rule.symptoms <= self.symptoms:
                raise ValueError(f"rule {rule.name} names symptoms the programme does not ask")
        if len({rule.name for rule in self.rules}) != len(self.rules):
            raise ValueError("rule names must be unique")
        return self


def _vital(name: str, vital: VitalName, escalation: EscalationKind, **bound: float) -> Rule:
    return Rule(name=name, escalation=escalation, vital=vital, **bound)


def _signs(name: str, escalation: EscalationKind, *symptoms: str) -> Rule:
    return Rule(name=name, escalation=escalation, symptoms=frozenset(symptoms))


# Patients treated at home for an acute respiratory infection (COVID-19, pneumonia). SpO2
# below 94 % on room air and a respiratory rate of 30 or more are "severe illness" in the NIH
# COVID-19 treatment guidelines and WHO's clinical management guideline, and grounds for
# hospital in the Russian Ministry of Health's interim COVID-19 guidelines, which also treat
# fever of 38.5 °C or more for three days despite treatment as a reason to see the patient.
HOME_TREATMENT = Programme(
    title="Home treatment of an acute respiratory infection",
    symptoms=frozenset({"breathing_difficulty", "chest_pain", "confusion", "cannot_drink"}),
    rules=(
        _vital("hypoxaemia", "spo2", AMBULANCE, below=94),
        _vital("tachypnoea", "respiratory_rate", AMBULANCE, at_least=30),
        _vital("persistent_fever", "temperature_c", HOME_VISIT, at_least=38.5, days=3),
        _signs("breathing_difficulty", HOME_VISIT, "breathing_difficulty"),
        _signs("chest_pain", AMBULANCE, "chest_pain"),
        _signs("confusion", AMBULANCE, "confusion"),
        _signs("dehydration", HOME_VISIT, "cannot_drink"),
    ),
)
# Pregnant women at high risk (hypertension, pre-eclampsia in the history). 140/90 is
# hypertension in pregnancy and 160/110 its severe range (ACOG Practice Bulletin 222; NICE
# NG133; the Russian clinical guideline "Pre-eclampsia. Eclampsia", 2021); headache with
# visual disturbance and epigastric pain are pre-eclampsia's severe features; bleeding and
# reduced fetal movement need the maternity unit the same day (RCOG Green-top 57); new
# swelling of face and hands is a pre-eclampsia symptom to see the woman for.
PREGNANCY_HIGH_RISK = Programme(
    title="High-risk pregnancy",
    symptoms=frozenset(
        {
            "severe_headache",
            "visual_disturbance",
            "epigastric_pain",
            "vaginal_bleeding",
            "reduced_fetal_movement",
            "oedema",
        }
    ),
    rules=(
        _vital("severe_systolic_hypertension", "systolic_bp", AMBULANCE, at_least=160),
        _vital("severe_diastolic_hypertension", "diastolic_bp", AMBULANCE, at_least=110),
        _vital("systolic_hypertension", "systolic_bp", HOME_VISIT, at_least=140),
        _vital("diastolic_hypertension", "diastolic_bp", HOME_VISIT, at_least=90),
        _signs(
            "headache_with_visual_disturbance", AMBULANCE, "severe_headache", "visual_disturbance"
        ),
        _signs("epigastric_pain", AMBULANCE, "epigastric_pain"),
        _signs("bleeding", AMBULANCE, "vaginal_bleeding"),
        _signs("reduced_fetal_movement", AMBULANCE, "reduced_fetal_movement"),
        _signs("oedema", HOME_VISIT, "oedema"),
    ),
)


def default_programmes() -> dict[str, Programme]:
    return {"home_treatment": HOME_TREATMENT, "pregnancy_high_risk": PREGNANCY_HIGH_RISK}


@dataclass(frozen=True)
class Reading:
    """What one check-in recorded, as the rules read it."""

    at: datetime
    vitals: dict[str, float]
    symptoms: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Escalation:
    kind: EscalationKind
    rules: list[str]


def _meets(rule: Rule, reading: Reading) -> bool:
    if not rule.symptoms <= reading.symptoms:
        return False
    if rule.vital is None:
        return True
    value = reading.vitals.get(rule.vital)
    if value is None:
        return False
    if rule.at_least is not None:
        return value >= rule.at_least
    return rule.below is not None and value < rule.below


def _fires(rule: Rule, current: Reading, earlier: Sequence[Reading], zone: ZoneInfo) -> bool:
    if not _meets(rule, current):
        return False
    today = current.at.astimezone(zone).date()
    days_met = {reading.at.astimezone(zone).date() for reading in earlier if _meets(rule, reading)}
    return all(today - timedelta(days=back) in days_met for back in range(1, rule.days))


def longest_history(programme: Programme) -> int:
    """How many local days before today the programme's rules look back."""
    return max((rule.days for rule in programme.rules), default=1) - 1


def evaluate(
    programme: Programme, current: Reading, earlier: Sequence[Reading], zone: ZoneInfo
) -> Escalation | None:
    """What the check-in arranges: the most severe escalation of the rules it fires, if any.
    `earlier` holds the enrolment's readings of the days the rules look back over."""
    fired = [rule for rule in programme.rules if _fires(rule, current, earlier, zone)]
    if not fired:
        return None
    severity = list(EscalationKind)
    kind = max((rule.escalation for rule in fired), key=severity.index)
    return Escalation(kind=kind, rules=[rule.name for rule in fired])
