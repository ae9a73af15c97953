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


class AnswerLanguage(StrEnum):
    """The languages an appeal is answered in: templated answers and automatic replies."""

    RU = "ru"
    EN = "en"


class MessageKind(StrEnum):
    """Who speaks in an appeal's thread: the person (in), or staff and telemed itself (out)."""

    PERSON = "person"  # what the person wrote after their first text
    REPLY = "reply"  # a reply staff wrote
    ANSWER = "answer"  # the appeal's answer: its resolution's text or where to go
    OUT_OF_HOURS = "out_of_hours"  # automatic: when the person will be answered


class DeliveryStatus(StrEnum):
    """An outgoing message on its way to the chat the appeal came from."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # refused for good (the bot blocked), or not sent within the window


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
    CALL_LINKED = "call_linked"  # a PBX call, on which the appeal was made
    RECORDING_ATTACHED = "recording_attached"  # that call's recording


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


class ResolutionAction(StrEnum):
    """What was done for the person, as a resolution says it (`resolutions.ACTIONS` says for
    which categories each is offered). Each value stays within 25 characters: the figures
    store it in a metric's name (`action.<value>`)."""

    BOOKED_APPOINTMENT = "booked_appointment"
    MOVED_APPOINTMENT_FORWARD = "moved_appointment_forward"
    ARRANGED_FREE_CARE = "arranged_free_care"  # under the OMS programme, not for payment
    REFUNDED_PAYMENT = "refunded_payment"  # taken for care that is free
    ARRANGED_HOME_VISIT = "arranged_home_visit"  # a doctor or nurse at home, a blood draw
    ARRANGED_HOSPITAL_BED = "arranged_hospital_bed"
    ARRANGED_ATTACHMENT = "arranged_attachment"  # to the clinic the person chose
    CALLED_HEAD = "called_head"  # of the organisation that failed the person
    REFERRED_TO_INSURER = "referred_to_insurer"
    ORDERED_QUALITY_CHECK = "ordered_quality_check"  # of the care given
    EXPLAINED_RIGHTS = "explained_rights"
    GAVE_INFORMATION = "gave_information"  # what was asked: where, when, what is covered
    REDIRECTED = "redirected"  # to the organisation that handles it, named in `details`


class ResolutionResult(StrEnum):
    RESOLVED = "resolved"
    PARTIALLY_RESOLVED = "partially_resolved"
    REFUSED = "refused"  # what the person asked for is not due to them: `result_reason` why
    REFERRED = "referred"  # to another body to decide: `result_reason` which


class CallEventKind(StrEnum):
    """What a PBX tells of a call (docs/telephony.md maps Asterisk's and FreeSWITCH's events)."""

    STARTED = "started"  # the caller reached the line
    ANSWERED = "answered"  # an operator picked up
    DROPPED = "dropped"  # lost: hung up waiting, or cut off mid-conversation
    ENDED = "ended"  # hung up; without `answered` first, nobody spoke to the caller
    RECORDING_AVAILABLE = "recording_available"


class CallOutcome(StrEnum):
    RINGING = "ringing"  # on the line, nobody has answered yet
    TALKING = "talking"
    COMPLETED = "completed"  # answered, and ended normally
    DROPPED = "dropped"  # owed a callback: see `CallEventKind`
