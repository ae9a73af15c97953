"""Statuses, urgencies, modes and actions of a consultation case and its consilium."""

from enum import IntEnum, StrEnum


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


class ConsultationMode(StrEnum):
    WRITTEN = "written"
    VIDEO = "video"
    CONSILIUM = "consilium"  # several specialists decide together; the assigned one chairs


class MessageKind(StrEnum):
    COMMENT = "comment"
    INFO_REQUEST = "info_request"
    INFO_RESPONSE = "info_response"


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


class SignatureForm(IntEnum):
    """What a conclusion's signature covers; stored with it, so earlier forms keep verifying."""

    # Sorted-keys JSON with `+00:00` times, the bare Ed25519 signature: conclusions issued
    # before form 2, and consilia's opinions and protocols.
    CANONICAL_JSON = 1
    # An RFC 8785 document signed as a JWS (EdDSA, detached payload): docs/api.md specifies it.
    JWS_JCS = 2
