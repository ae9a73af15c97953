"""One sample consultation — a patient with chest pain asked about at a regional cardiology
centre — for the demo, the benchmarks and the tests, so they all send the same valid case; and
one sample resolution of a hotline appeal, so they all resolve appeals the same valid way."""

from typing import Any


def sample_patient(**overrides: Any) -> dict[str, Any]:
    patient = {
        "reference": "MIS-42-000123",
        "full_name": "Petrov Ivan Sergeevich",
        "birth_date": "1961-04-12",
        "sex": "male",
        "insurance_policy": "4250000000000123",
    }
    return patient | overrides


def clinical_summary(**overrides: Any) -> dict[str, Any]:
    summary = {
        "present_illness": "Chest pain for 6 hours, ST depression V4-V6.",
        "relevant_history": "Hypertension 10 years.",
        "vital_signs": {"systolic_bp": 150, "diastolic_bp": 95, "heart_rate": 98, "spo2": 95},
        "main_diagnosis": {"code": "I21.4", "text": "Acute subendocardial MI"},
        "accompanying_diagnoses": [{"code": "I10", "text": "Hypertension"}],
        "current_treatment": "Aspirin 300 mg, heparin.",
    }
    return summary | overrides


def sample_case(target_organization_id: str, **overrides: Any) -> dict[str, Any]:
    """The body of `POST /api/consult/cases`: an urgent written cardiology question, a draft
    unless `submit=True` is among the overrides."""
    body = {
        "target_organization_id": target_organization_id,
        "specialty": "cardiology",
        "patient": sample_patient(),
        "urgency": "urgent",
        "mode": "written",
        "question": "Is transfer for PCI indicated?",
        "summary": clinical_summary(),
        "attachment_ids": [],
    }
    return body | overrides


def sample_resolution(**overrides: Any) -> dict[str, Any]:
    """The body of `POST /api/consult/appeals/{id}/resolve` for an appeal about a histology the
    polyclinic asked payment for: its head called, the test booked free. Its one action
    answers an appeal of any category; name others with `actions`."""
    body = {
        "actions": ["called_head"],
        "details": "The head of the polyclinic confirmed the repeat histology is in the OMS "
        "programme and withdrew the invoice.",
        "done_by": {"name": "Petrova Anna Sergeevna", "position": "Head of the polyclinic"},
        "result": "resolved",
        "answer": "We called the head of the polyclinic: the histology is covered by the OMS "
        "programme. You are booked for it free of charge on 22 October at 10:00, room 214.",
        "first_contact_resolution": True,
    }
    return body | overrides
