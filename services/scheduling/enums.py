"""The scheduling service's vocabulary: visit types, appointment statuses, actions and states."""

from enum import StrEnum


class ScheduleKind(StrEnum):
    PRACTITIONER = "practitioner"
    ROOM = "room"


class VisitType(StrEnum):
    """What a visit is; the first-visit rule is written in these terms."""

    IN_PERSON = "in_person"
    REMOTE = "remote"
    DOCTOR_TO_DOCTOR = "doctor_to_doctor"
    CONSILIUM = "consilium"


# Visits the patient attends, so they belong to a care episode and have a patient.
PATIENT_VISITS = frozenset({VisitType.IN_PERSON, VisitType.REMOTE})
# Visits held over video, for which a room is asked of the video service.
VIDEO_VISITS = frozenset({VisitType.REMOTE, VisitType.DOCTOR_TO_DOCTOR, VisitType.CONSILIUM})
# Visits whose patient joins the call, and so has a join link.
LINKED_VISIT = VisitType.REMOTE


class ExceptionKind(StrEnum):
    UNAVAILABLE = "unavailable"  # leave, holidays, training: no slots inside
    EXTRA = "extra"  # one-off hours outside the weekly pattern


class AppointmentStatus(StrEnum):
    """FHIR R4 Appointment.status, the values this service uses."""

    PROPOSED = "proposed"
    BOOKED = "booked"
    CHECKED_IN = "checked_in"
    ARRIVED = "arrived"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"
    NOSHOW = "noshow"
    ENTERED_IN_ERROR = "entered_in_error"


# Statuses that do not hold the practitioner's time. Written into the exclusion constraint's
# predicate and the SQLite trigger, so changing it needs a migration.
FREEING_STATUSES = (AppointmentStatus.CANCELLED, AppointmentStatus.ENTERED_IN_ERROR)
# Statuses after which nothing further happens to the visit (except marking it an error),
# so a video room it had is given back.
FINAL_STATUSES = frozenset(
    {
        AppointmentStatus.FULFILLED,
        AppointmentStatus.CANCELLED,
        AppointmentStatus.NOSHOW,
        AppointmentStatus.ENTERED_IN_ERROR,
    }
)
# Appointments patients are reminded of.
REMINDED_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN)


class AppointmentAction(StrEnum):
    CONFIRM = "confirm"
    CHECK_IN = "check_in"
    ARRIVE = "arrive"
    FULFIL = "fulfil"
    NO_SHOW = "no_show"
    CANCEL = "cancel"
    RESCHEDULE = "reschedule"
    ENTER_IN_ERROR = "enter_in_error"
    EXPIRE = "expire"  # a hold that was not confirmed in time; only the service does this


class RoomState(StrEnum):
    """The video room of a video visit: asked for (the video service has not given it yet),
    given (its id stored), released (closed in the video service, or never given)."""

    PENDING = "pending"
    READY = "ready"
    RELEASED = "released"


class EpisodeStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


class ReminderKind(StrEnum):
    DAY_BEFORE = "day_before"  # the same local time the day before, in the patient's zone
    HOUR_BEFORE = "hour_before"


class ReminderState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a job run; reclaimed when its lease runs out
    SENT = "sent"
    FAILED = "failed"  # gave up after the configured attempts
    SKIPPED = "skipped"  # the appointment was cancelled or started before delivery


class Ineligibility(StrEnum):
    """Why a patient may not (yet) be followed up remotely in a specialty."""

    NO_VISIT = "no_visit"  # no in-person visit of that specialty is on record
    VISIT_NOT_FULFILLED = "visit_not_fulfilled"  # booked, but it has not taken place
    OTHER_SPECIALTY = "other_specialty"  # in-person visits took place in other specialties only
