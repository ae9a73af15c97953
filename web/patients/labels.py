"""What the patient's screens call the API's codes in the patient's words (msgids; the
templates translate them): visit kinds and statuses, worsening signs, and why a question was
refused."""

from web.cases.labels import LABELS
from web.navigation import N_

VISIT_KINDS = {
    "in_person": N_("In person"),
    "remote": N_("Video visit"),
}
VISIT_STATUSES = {
    "proposed": N_("Being booked"),
    "booked": N_("Booked"),
    "checked_in": N_("Checked in"),
    "arrived": N_("In progress"),
    "fulfilled": N_("Took place"),
    "cancelled": N_("Cancelled"),
    "noshow": N_("Missed"),
    "entered_in_error": N_("Entered by mistake"),
}
# Visits still to come (or going on): scheduling's statuses in which a visit holds its time.
COMING = ("proposed", "booked", "checked_in", "arrived")
# Consult's default list (`GET /api/consult/worsening-signs`); a sign configured beyond these is
# shown by its code.
WORSENING_SIGNS = {
    "chest_pain": N_("Chest pain"),
    "shortness_of_breath": N_("Shortness of breath"),
    "fainting": N_("Fainting"),
    "bleeding": N_("Bleeding"),
    "high_fever": N_("High fever"),
    "severe_headache": N_("Severe headache"),
    "sudden_weakness_or_numbness": N_("Sudden weakness or numbness"),
    "confusion": N_("Confusion"),
    "vision_loss": N_("Loss of vision"),
    "severe_abdominal_pain": N_("Severe abdominal pain"),
    "leg_swelling": N_("Leg swelling"),
    "palpitations": N_("Palpitations"),
}
# Consult's 409 reasons: why a question needs an in-person visit first.
NOT_ELIGIBLE = {
    "no_visit": N_("You have not been seen in person in this specialty yet."),
    "visit_not_fulfilled": N_("Your in-person visit in this specialty has not taken place yet."),
    "other_specialty": N_("You were seen in person in other specialties, not this one."),
}
ANSWER_MODES = {
    "written": N_("A written answer"),
    "video": N_("A video visit"),
}

PATIENT_LABELS = {
    **LABELS,
    "visit_kinds": VISIT_KINDS,
    "visit_statuses": VISIT_STATUSES,
    "worsening_labels": WORSENING_SIGNS,
    "not_eligible_words": NOT_ELIGIBLE,
    "answer_modes": ANSWER_MODES,
}
