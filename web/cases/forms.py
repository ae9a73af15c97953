"""The case form: its fields as the consult API's body, and the API's refusals beside the
fields they are about (GOV.UK's pattern), in the reader's language where the console knows the
kind of mistake."""

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData

from web.cases.api import Issue, Refusal
from web.cases.schemas import Case, Conclusion

PATIENT = ("reference", "full_name", "birth_date", "sex", "insurance_policy")
VITALS = ("systolic_bp", "diastolic_bp", "heart_rate", "respiratory_rate", "temperature_c", "spo2")
TEXTS = ("present_illness", "relevant_history", "current_treatment")
FIELDS = (
    *(f"patient_{name}" for name in PATIENT),
    "target_organization_id",
    "specialty",
    "urgency",
    "mode",
    "question",
    *TEXTS,
    *VITALS,
    "diagnosis_code",
    "diagnosis_text",
    "accompanying",
)
# Longest a form value is taken: the API's longest text is 20,000 characters.
MAX_VALUE = 20_000
# Kinds of validation mistake the console says in the reader's language (forms.html and
# cases/fields.html translate the codes); any other is said in the API's words.
RANGE_KINDS = frozenset({"greater_than", "greater_than_equal", "less_than", "less_than_equal"})


@dataclass
class FormState:
    """What a form shows: the values typed (kept on a refusal) and messages per field."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    detail: str | None = None  # a refusal that names no field


def form_values(form: FormData, names: tuple[str, ...]) -> dict[str, str]:
    values = {}
    for name in names:
        value = form.get(name)
        values[name] = value.strip()[:MAX_VALUE] if isinstance(value, str) else ""
    return values


def case_body(values: Mapping[str, str], *, reroutable: bool = True) -> dict[str, Any]:
    """The API's body for the form: values as typed, for the API to check (it names what is
    wrong); empty optional numbers left out. A case no longer a draft keeps its target and
    specialty (the API refuses to change them)."""
    vitals = {name: values[name] for name in VITALS if values.get(name)}
    accompanying = []
    for line in values.get("accompanying", "").splitlines():
        code, _, text = line.strip().partition(" ")
        if code:
            accompanying.append({"code": code, "text": text.strip()})
    body: dict[str, Any] = {
        "patient": {name: values.get(f"patient_{name}", "") for name in PATIENT},
        "urgency": values.get("urgency", ""),
        "mode": values.get("mode") or "written",
        "question": values.get("question", ""),
        "summary": {
            **{name: values.get(name, "") for name in TEXTS},
            "vital_signs": vitals,
            "main_diagnosis": {
                "code": values.get("diagnosis_code", ""),
                "text": values.get("diagnosis_text", ""),
            },
            "accompanying_diagnoses": accompanying,
        },
    }
    if reroutable:
        body["target_organization_id"] = values.get("target_organization_id", "")
        body["specialty"] = values.get("specialty", "")
    return body


def case_values(case: Case) -> dict[str, str]:
    """The form filled in from a stored case, for editing it."""
    values = {f"patient_{name}": str(getattr(case.patient, name)) for name in PATIENT}
    values |= {
        "target_organization_id": str(case.target_organization_id),
        "specialty": case.specialty,
        "urgency": case.urgency,
        "mode": case.mode,
        "question": case.question,
    }
    summary = case.summary
    if summary is not None:
        values |= {name: getattr(summary, name) for name in TEXTS}
        signs = summary.vital_signs
        values |= {name: "" if getattr(signs, name) is None else str(getattr(signs, name))
                   for name in VITALS}  # fmt: skip
        values |= {
            "diagnosis_code": summary.main_diagnosis.code,
            "diagnosis_text": summary.main_diagnosis.text,
            "accompanying": "\n".join(
                f"{item.code} {item.text}" for item in summary.accompanying_diagnoses
            ),
        }
    return values


def case_field(location: tuple[str | int, ...]) -> str | None:
    """The form field an API error location is about, or None."""
    head, rest = (location[0], location[1:]) if location else ("", ())
    if head == "patient" and rest:
        return f"patient_{rest[0]}"
    if head == "summary" and rest:
        if rest[0] == "vital_signs" and len(rest) > 1:
            return str(rest[1])
        if rest[0] == "main_diagnosis" and len(rest) > 1:
            return f"diagnosis_{rest[1]}"
        if rest[0] == "accompanying_diagnoses":
            return "accompanying"
        return str(rest[0])
    return str(head) if head in FIELDS else None


def issue_message(issue: Issue, value: str) -> str:
    """A console code for the kinds of mistake it words itself, else the API's message."""
    if not value or issue.kind in ("missing", "string_too_short"):
        return "missing"
    if issue.kind in RANGE_KINDS:
        return "range"
    if issue.kind.endswith(("_parsing", "_type", "pattern_mismatch")) or issue.kind == "enum":
        return "format"
    return issue.message


def refused(
    refusal: Refusal,
    values: dict[str, str],
    field_of: Callable[[tuple[str | int, ...]], str | None] = case_field,
) -> FormState:
    """The form again, with the API's refusal beside the fields it names, the rest above."""
    state = FormState(values=values)
    unplaced = []
    for issue in refusal.errors:
        name = field_of(issue.location)
        if name is None:
            unplaced.append(issue.message)
            continue
        message = issue_message(issue, values.get(name, ""))
        if message not in state.errors.setdefault(name, []):
            state.errors[name].append(message)
    if unplaced or not refusal.errors:
        state.detail = "; ".join(unplaced) or refusal.detail
    return state


def parse_id(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def conclusion_values(conclusion: Conclusion) -> dict[str, str]:
    """The conclusion form filled in from a version, for amending it."""
    content = conclusion.content
    return {
        "findings": content.findings,
        "diagnosis_text": content.diagnosis_text,
        "diagnosis_codes": ", ".join(content.diagnosis_codes),
        "recommendations": content.recommendations,
        "recommended_tests": "\n".join(content.recommended_tests),
        "in_person_visit_needed": "yes" if content.in_person_visit_needed else "",
        "hospitalisation_needed": "yes" if content.hospitalisation_needed else "",
    }
