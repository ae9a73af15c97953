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
    VISIT_HOME = "visit.home"  # a doctor or nurse called home: the day and window
    CASE_CONCLUSION_READY = "case.conclusion_ready"
    CASE_INFO_REQUESTED = "case.info_requested"
    CASE_NEW_URGENT = "case.new_urgent"
    CASE_DEADLINE_SOON = "case.deadline_soon"

    @property
    def category(self) -> "Category":
        return _CATEGORY_OF_PREFIX[self.value.split(".", 1)[0]]


class Category(StrEnum):
    """What a message is about; a person may opt out of any category but `account`."""

    ACCOUNT = "account"  # password resets, invitations, new sign-ins: always sent
    VISITS = "visits"
    CASES = "cases"


_CATEGORY_OF_PREFIX = {
    "account": Category.ACCOUNT,
    "visit": Category.VISITS,
    "case": Category.CASES,
}
OPTIONAL_CATEGORIES = (Category.VISITS, Category.CASES)


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # due at `next_attempt_at`
    SENDING = "sending"  # claimed by a worker until its lease runs out
    SENT = "sent"  # the SMTP server or SMS provider accepted it
    FAILED = "failed"  # refused for good, or not accepted within the give-up window
    SKIPPED = "skipped"  # the person opted out of the channel or the category


class AttemptOutcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # a passing failure: tried again after the backoff
    FAILED = "failed"  # a permanent failure, or the give-up window is over


class MessageStatus(StrEnum):
    """A message's deliveries in one word, in this order of precedence."""

    SENT = "sent"  # accepted on at least one channel
    PENDING = "pending"  # not yet, and some delivery is still to be tried
    FAILED = "failed"  # every delivery that was tried failed
    SKIPPED = "skipped"  # every delivery was skipped by the person's choices
    UNDELIVERABLE = "undeliverable"  # no delivery at all (no contact, deactivated)
