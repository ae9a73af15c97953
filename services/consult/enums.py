"""The consult service's vocabulary: statuses, urgencies, modes and the actions on a case."""

from enum import StrEnum


class CaseKind(StrEnum):
    DOCTOR_TO_DOCTOR = "doctor_to_doctor"
    PATIENT_REQUEST = "patient_request"  # a patient asks their specialist after a visit


class CaseStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    INFO_REQUESTED = "info_requested"
    CONCLUDED = "concluded"
    DECLINED = "declined"
    CANCELLED = "cancelled"


# Statuses in which the case is waiting on someone, so its deadline still runs.
OPEN_STATUSES = frozenset(
    {
        CaseStatus.SUBMITTED,
        CaseStatus.ACCEPTED,
        CaseStatus.IN_PROGRESS,
        CaseStatus.INFO_REQUESTED,
    }
)


class CaseAction(StrEnum):
    EDIT = "edit"
    SUBMIT = "submit"
    ACCEPT = "accept"
    START = "start"
    REQUEST_INFO = "request_info"
    PROVIDE_INFO = "provide_info"
    DECLINE = "decline"
    CANCEL = "cancel"
    CONCLUDE = "conclude"
    AMEND = "amend"


class Urgency(StrEnum):
    EMERGENCY = "emergency"
    URGENT = "urgent"
    PLANNED = "planned"


class ConsultationMode(StrEnum):
    WRITTEN = "written"
    VIDEO = "video"


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"
    UNKNOWN = "unknown"


class MessageKind(StrEnum):
    COMMENT = "comment"
    INFO_REQUEST = "info_request"
    INFO_RESPONSE = "info_response"
