"""FHIR R4 renderings of consult's records: a case as ServiceRequest and Task, its attachments
as DocumentReference, a conclusion version as DiagnosticReport, a monitoring check-in as
Observation. Pure functions, no I/O."""

from typing import Any

from services.common.fhir import (
    LOINC_SYSTEM,
    UCUM_SYSTEM,
    FhirTerms,
    coding,
    concept,
    hyphenated,
    instant,
    patient_reference,
    reference,
)
from services.common.fhir_documents import StoredDocument, case_content_url
from services.common.fhir_documents import document_reference as render_document
from services.consult.cases.enums import CaseStatus
from services.consult.cases.models import Case, Conclusion
from services.consult.cases.schemas import Attachment
from services.consult.monitoring.enums import EscalationKind
from services.consult.monitoring.models import CheckIn, Enrolment
from services.consult.values import Urgency

S = CaseStatus
# Our statuses in FHIR's value sets, each chosen explicitly: a new status must be added here.
SERVICE_REQUEST_STATUS = {
    S.DRAFT: "draft",
    S.SUBMITTED: "active",
    S.ACCEPTED: "active",
    S.IN_PROGRESS: "active",
    S.INFO_REQUESTED: "on-hold",
    S.CONCLUDED: "completed",
    S.DECLINED: "revoked",
    S.CANCELLED: "revoked",
}
TASK_STATUS = {
    S.DRAFT: "draft",
    S.SUBMITTED: "requested",
    S.ACCEPTED: "accepted",
    S.IN_PROGRESS: "in-progress",
    S.INFO_REQUESTED: "on-hold",
    S.CONCLUDED: "completed",
    S.DECLINED: "rejected",
    S.CANCELLED: "cancelled",
}
PRIORITY = {Urgency.EMERGENCY: "stat", Urgency.URGENT: "urgent", Urgency.PLANNED: "routine"}
# A conclusion's first version is final; each later one amends the one before.
REPORT_STATUSES = ("final", "amended")
OBSERVATION_STATUSES = ("final",)  # a check-in is recorded once and never changed
# v3 ObservationInterpretation: what a check-in's thresholds arranged.
INTERPRETATION = {
    EscalationKind.HOME_VISIT: ("A", "Abnormal"),
    EscalationKind.AMBULANCE: ("AA", "Critical abnormal"),
}
INTERPRETATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
# LOINC codes and UCUM units of the vital signs a check-in records.
VITALS = {
    "systolic_bp": ("8480-6", "Systolic blood pressure", "mm[Hg]", "mmHg"),
    "diastolic_bp": ("8462-4", "Diastolic blood pressure", "mm[Hg]", "mmHg"),
    "heart_rate": ("8867-4", "Heart rate", "/min", "beats/minute"),
    "respiratory_rate": ("9279-1", "Respiratory rate", "/min", "breaths/minute"),
    "temperature_c": ("8310-5", "Body temperature", "Cel", "C"),
    "spo2": ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%", "%"),
}
CONCLUSION_SYSTEM = "sid/conclusion"  # under `fhir_system_base`; values `<case id>/<version>`
CONSULT_NOTE = coding(LOINC_SYSTEM, "11488-4", "Consult note")


def _case_subject(terms: FhirTerms, case: Case) -> dict[str, Any]:
    return patient_reference(terms, case.patient_id, case.patient_reference)


def service_request(terms: FhirTerms, case: Case) -> dict[str, Any]:
    """The case as what was asked: of whom, for which patient, how urgently, with what."""
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": str(case.id),
        "meta": {"lastUpdated": instant(case.updated_at)},
        "status": SERVICE_REQUEST_STATUS[case.status],
        "intent": "order",
        "category": [concept(terms.local("case-kind", hyphenated(case.kind.value)))],
        "priority": PRIORITY[case.urgency],
        "code": concept(
            terms.local("consultation-mode", case.mode.value),
            text=f"{case.mode.value} consultation in {case.specialty.replace('_', ' ')}",
        ),
        "subject": _case_subject(terms, case),
        "authoredOn": instant(case.created_at),
        "requester": reference("Organization", case.requesting_organization_id),
        "performerType": terms.specialty(case.specialty),
        "performer": [reference("Organization", case.target_organization_id)],
        "note": [{"text": case.question}],
    }
    diagnosis = (case.summary or {}).get("main_diagnosis")
    if diagnosis:
        resource["reasonCode"] = [concept(terms.icd10(diagnosis["code"]), text=diagnosis["text"])]
    if case.attachment_ids:
        resource["supportingInfo"] = [
            reference("DocumentReference", file_id) for file_id in case.attachment_ids
        ]
    return resource


def task(terms: FhirTerms, case: Case) -> dict[str, Any]:
    """The case as work to do: where it stands, who has it, and its deadline."""
    resource: dict[str, Any] = {
        "resourceType": "Task",
        "id": str(case.id),
        "meta": {"lastUpdated": instant(case.updated_at)},
        "status": TASK_STATUS[case.status],
        "businessStatus": concept(terms.local("case-status", hyphenated(case.status.value))),
        "intent": "order",
        "priority": PRIORITY[case.urgency],
        "focus": reference("ServiceRequest", case.id),
        "for": _case_subject(terms, case),
        "authoredOn": instant(case.created_at),
        "lastModified": instant(case.updated_at),
        "requester": reference("Organization", case.requesting_organization_id),
        "owner": reference("Practitioner", case.assignee_id)
        if case.assignee_id
        else reference("Organization", case.target_organization_id),
        "restriction": {"period": {"end": instant(case.due_at)}},
    }
    reason = case.decline_reason or case.cancel_reason
    if reason:
        resource["statusReason"] = concept(text=reason)
    if case.accepted_at:
        period = {"start": instant(case.accepted_at)}
        if case.closed_at:
            period["end"] = instant(case.closed_at)
        resource["executionPeriod"] = period
    return resource


def document_reference(terms: FhirTerms, attachment: Attachment, case: Case) -> dict[str, Any]:
    """A file the case lists, as the files service described it when it was attached, for
    the case's patient; its bytes through consult, for every reader of the case."""
    document = StoredDocument(
        id=attachment.id,
        kind=attachment.kind,
        title=attachment.display_name,
        media_type=attachment.media_type,
        size=attachment.size,
        sha256=attachment.sha256,
        stored_at=attachment.stored_at,
        case_id=case.id,
    )
    return render_document(
        terms,
        document,
        subject=_case_subject(terms, case),
        url=case_content_url(terms, attachment.id),
    )


def diagnostic_report(terms: FhirTerms, conclusion: Conclusion, case: Case) -> dict[str, Any]:
    """One signed version of the conclusion; amendments are later reports of the same case."""
    content = conclusion.content
    text = (
        f"{content['diagnosis_text']}\n\nFindings: {content['findings']}\n\n"
        f"Recommendations: {content['recommendations']}"
    )
    resource: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "id": str(conclusion.id),
        "identifier": [
            {
                "system": terms.system(CONCLUSION_SYSTEM),
                "value": f"{case.id}/{conclusion.version}",
            }
        ],
        "basedOn": [reference("ServiceRequest", case.id)],
        "status": report_status(conclusion),
        "code": concept(CONSULT_NOTE, text="Teleconsultation conclusion"),
        "subject": _case_subject(terms, case),
        "effectiveDateTime": instant(conclusion.issued_at),
        "issued": instant(conclusion.issued_at),
        "performer": [reference("Practitioner", conclusion.author_id)],
        "conclusion": text,
        "conclusionCode": [concept(terms.icd10(code)) for code in content["diagnosis_codes"]],
    }
    return resource


def report_status(conclusion: Conclusion) -> str:
    return REPORT_STATUSES[0] if conclusion.amends_version is None else REPORT_STATUSES[1]


def observation(terms: FhirTerms, check_in: CheckIn, enrolment: Enrolment) -> dict[str, Any]:
    """A check-in as one observation: its vital signs, symptoms and well-being as components."""
    components: list[dict[str, Any]] = []
    for name, value in check_in.vital_signs.items():
        code, display, unit, unit_text = VITALS[name]
        components.append(
            {
                "code": concept(coding(LOINC_SYSTEM, code, display)),
                "valueQuantity": {
                    "value": value,
                    "unit": unit_text,
                    "system": UCUM_SYSTEM,
                    "code": unit,
                },
            }
        )
    components.extend(
        {"code": concept(terms.local("monitoring-symptom", symptom)), "valueBoolean": True}
        for symptom in check_in.symptoms
    )
    components.append(
        {
            "code": concept(terms.local("monitoring-item", "wellbeing"), text="Well-being"),
            "valueCodeableConcept": concept(terms.local("wellbeing", check_in.wellbeing.value)),
        }
    )
    recorder = "Patient" if check_in.recorder_role == "patient" else "Practitioner"
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(check_in.id),
        "status": OBSERVATION_STATUSES[0],
        "category": [
            concept(coding(CATEGORY_SYSTEM, "vital-signs")),
            concept(coding(CATEGORY_SYSTEM, "survey")),
        ],
        "code": concept(
            terms.local("monitoring-programme", enrolment.programme),
            text=f"Monitoring check-in ({enrolment.programme.replace('_', ' ')})",
        ),
        "subject": patient_reference(terms, enrolment.patient_id, enrolment.patient_reference),
        "effectiveDateTime": instant(check_in.checked_at),
        "performer": [reference(recorder, check_in.recorded_by)],
        "component": components,
    }
    if check_in.escalation is not None:
        code, display = INTERPRETATION[check_in.escalation]
        resource["interpretation"] = [
            concept(
                coding(INTERPRETATION_SYSTEM, code, display),
                text=f"{check_in.escalation.value}: {', '.join(check_in.fired_rules)}",
            )
        ]
    if check_in.note:
        resource["note"] = [{"text": check_in.note}]
    return resource
