"""Statuses, actions and cancellation reasons of home-visit calls."""

from enum import StrEnum


class HomeVisitStatus(StrEnum):
    REQUESTED = "requested"  # on the polyclinic's list for its day, nobody sent yet
    ASSIGNED = "assigned"  # a doctor or nurse of the polyclinic is to go
    DONE = "done"
    CANCELLED = "cancelled"


class HomeVisitAction(StrEnum):
    ASSIGN = "assign"
    COMPLETE = "complete"
    CANCEL = "cancel"


class CancelReason(StrEnum):
    """Why a visit was called off; the figures count cancellations by it."""

    CALLER_WITHDREW = "caller_withdrew"  # they are better, or went to the polyclinic themselves
    AMBULANCE_CALLED = "ambulance_called"  # worse before the visit: an emergency now
    HOSPITALISED = "hospitalised"
    NOT_AT_HOME = "not_at_home"  # nobody opened the door, the phone unanswered
    WRONG_POLYCLINIC = "wrong_polyclinic"  # the address is served by another polyclinic
    DUPLICATE = "duplicate"  # the same call filed twice
    OTHER = "other"
