"""Statuses and actions of at-risk patients' monitoring: enrolments, check-ins, escalations."""

from enum import StrEnum


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
