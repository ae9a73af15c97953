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
    CONVENE = "convene"  # the assigned specialist calls a consilium on the case


class Urgency(StrEnum):
    EMERGENCY = "emergency"
    URGENT = "urgent"
    PLANNED = "planned"


class ConsultationMode(StrEnum):
    WRITTEN = "written"
    VIDEO = "video"
    CONSILIUM = "consilium"  # several specialists decide together; the assigned one chairs


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"
    UNKNOWN = "unknown"


class MessageKind(StrEnum):
    COMMENT = "comment"
    INFO_REQUEST = "info_request"
    INFO_RESPONSE = "info_response"


# --- Patients' appeals to hotlines and medical chats, and the callbacks they need ---


class AppealChannel(StrEnum):
    PHONE = "phone"
    CHAT = "chat"
    WEB = "web"
    API = "api"  # a regional MIS passing on what reached it


class AppealCategory(StrEnum):
    QUESTION = "question"
    COMPLAINT = "complaint"
    APPOINTMENT_HELP = "appointment_help"
    REFUSAL_OF_FREE_CARE = "refusal_of_free_care"  # incl. refused attachment to a clinic
    PAID_SERVICE_IMPOSITION = "paid_service_imposition"
    WAITING_TIME = "waiting_time"
    HOSPITAL_BED = "hospital_bed"
    OTHER = "other"


class AppealStatus(StrEnum):
    NEW = "new"  # received, its territory in no organisation's map yet: routed by hand
    ROUTED = "routed"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    REDIRECTED = "redirected"  # a topic the channel does not handle, answered with where to go
    CLOSED = "closed"


# Statuses in which someone still owes the patient an answer, so the deadline runs.
OPEN_APPEAL_STATUSES = frozenset({AppealStatus.NEW, AppealStatus.ROUTED, AppealStatus.IN_PROGRESS})


class RedirectTopic(StrEnum):
    """Topics hotlines and medical chats do not handle: the patient is told where to go."""

    DIAGNOSIS_OR_TREATMENT = "diagnosis_or_treatment"
    MEDICINE_AVAILABILITY = "medicine_availability"
    EMERGENCY_CARE = "emergency_care"


class AppealAction(StrEnum):
    ROUTE = "route"
    TAKE = "take"
    REASSIGN = "reassign"
    RESOLVE = "resolve"
    REDIRECT = "redirect"
    CLOSE = "close"


class AppealEventKind(StrEnum):
    RECEIVED = "received"
    ROUTED = "routed"
    TAKEN = "taken"
    REASSIGNED = "reassigned"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    REDIRECTED = "redirected"
    CLOSED = "closed"
    CALLBACK_SCHEDULED = "callback_scheduled"
    CALLBACK_ATTEMPTED = "callback_attempted"


class CallbackReason(StrEnum):
    DROPPED_CALL = "dropped_call"
    PHONE_ANSWER = "phone_answer"  # the answer is given by phone


class CallbackStatus(StrEnum):
    PENDING = "pending"
    REACHED = "reached"
    FAILED = "failed"  # every attempt allowed went unanswered
    CANCELLED = "cancelled"


class CallbackOutcome(StrEnum):
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    REACHED = "reached"


# --- Consilia: invitations to specialists, their opinions, the chair's protocol ---


class ConsiliumStatus(StrEnum):
    OPEN = "open"
    CONCLUDED = "concluded"  # the chair's protocol is issued


class InvitationStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    OPINION_GIVEN = "opinion_given"
    DECLINED = "declined"  # by the specialist, with a reason
    CLOSED = "closed"  # by the chair, unanswered, to issue the protocol


# Invitations still owing an answer: the protocol waits for them or closes them.
OUTSTANDING_INVITATIONS = frozenset({InvitationStatus.PENDING, InvitationStatus.ACCEPTED})


# --- Monitoring of at-risk patients: daily check-ins and escalation when they worsen ---


class EnrolmentStatus(StrEnum):
    ACTIVE = "active"
    DISCHARGED = "discharged"


class MonitoringAction(StrEnum):
    CHECK_IN = "check_in"
    DISCHARGE = "discharge"


class DischargeReason(StrEnum):
    RECOVERED = "recovered"
    HOSPITALISED = "hospitalised"
    DELIVERED = "delivered"  # the end of a monitored pregnancy
    TRANSFERRED = "transferred"  # to another organisation's care
    DECLINED = "declined"  # the patient no longer wants to be called
    DIED = "died"
    OTHER = "other"


class Wellbeing(StrEnum):
    BETTER = "better"
    SAME = "same"
    WORSE = "worse"


class EscalationKind(StrEnum):
    """What a worsening check-in arranges, the milder first: their order is their severity."""

    HOME_VISIT = "home_visit"
    AMBULANCE = "ambulance"


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
