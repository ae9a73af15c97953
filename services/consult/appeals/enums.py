"""Channels, categories, statuses and actions of patients' appeals and their callbacks."""

from enum import StrEnum


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
