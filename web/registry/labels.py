"""What the registry and schedule screens call the API's codes (msgids; the templates translate
them): visit kinds and statuses, exception kinds, weekdays, the outcomes of a series."""

from web.cases.labels import LABELS
from web.navigation import N_
from web.patients.labels import VISIT_STATUSES

VISIT_KINDS = {
    "in_person": N_("In person"),
    "remote": N_("Video visit"),
    "doctor_to_doctor": N_("Doctor to doctor"),
    "consilium": N_("Consilium"),
}
EXCEPTION_KINDS = {
    "unavailable": N_("Away (leave, holiday)"),
    "extra": N_("Extra hours"),
}
WEEKDAYS = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)
SERIES_OUTCOMES = {
    "booked": N_("Booked"),
    "conflict": N_("Taken by another visit"),
    "unavailable": N_("Outside the specialist's hours"),
}
SEXES = {"male": N_("Male"), "female": N_("Female")}

REGISTRY_LABELS = {
    **LABELS,
    "visit_kinds": VISIT_KINDS,
    "visit_statuses": VISIT_STATUSES,
    "exception_kinds": EXCEPTION_KINDS,
    "weekdays": WEEKDAYS,
    "series_outcomes": SERIES_OUTCOMES,
    "sexes": SEXES,
}
