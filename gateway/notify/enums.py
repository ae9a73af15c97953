"""The messages telemed sends people, and the channels that carry them."""

from enum import StrEnum


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


class Template(StrEnum):
    """Each names a pair of templates (Russian and English) under `gateway/notify/templates/`."""

    ACCOUNT_PASSWORD_RESET = "account.password_reset"
    ACCOUNT_INVITATION = "account.invitation"  # a patient record invited to sign in
    ACCOUNT_NEW_SIGN_IN = "account.new_sign_in"
    VISIT_INVITATION = "visit.invitation"
    VISIT_REMINDER_DAY = "visit.reminder_day"
    VISIT_REMINDER_HOUR = "visit.reminder_hour"
    VISIT_CANCELLED = "visit.cancelled"
    VISIT_RESCHEDULED = "visit.rescheduled"
    CASE_CONCLUSION_READY = "case.conclusion_ready"
    CASE_INFO_REQUESTED = "case.info_requested"
    CASE_NEW_URGENT = "case.new_urgent"
    CASE_DEADLINE_SOON = "case.deadline_soon"
